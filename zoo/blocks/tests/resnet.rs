//! ResNet-18, 34 and 50 have torchvision's parameter counts; the CPU-sized
//! instances run, and the basic one trains.

use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};
use mithril_zoo::resnet::{
    BasicResNetInputs, BottleneckResNetInputs, BottleneckTiny, ResNet18, ResNet34, ResNet50,
    ResNetTiny,
};

/// Trainable parameters (torchvision's count): every array but batch
/// norm's running statistics.
fn trainable<M: Model>() -> usize {
    M::graph()
        .weights
        .iter()
        .filter(|w| w.trainable)
        .map(|w| w.len())
        .sum()
}

/// `n` images of `size`x`size`x3 with values in [-1, 1) from a fixed
/// linear congruential generator.
fn images(n: i32, size: i32) -> Array {
    let mut state = 12345u32;
    let pixels: Vec<f32> = (0..n * size * size * 3)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1 << 23) as f32 - 1.0
        })
        .collect();
    Array::from_slice(&pixels, &[n, size, size, 3])
}

#[test]
fn every_depth_has_torchvisions_parameter_count() {
    assert_eq!(trainable::<ResNet18>(), 11_689_512);
    assert_eq!(trainable::<ResNet34>(), 21_797_672);
    assert_eq!(trainable::<ResNet50>(), 25_557_032);
    // `PARAMETER_COUNT` adds batch norm's running mean and variance: two
    // per channel of each batch norm (4,800 channels in ResNet-18: 64 in
    // the stem, 4 * 64, 5 * 128, 5 * 256 and 5 * 512 in the stages, the
    // projections' included).
    assert_eq!(ResNet18::PARAMETER_COUNT, 11_689_512 + 2 * 4_800);
    assert_eq!(ResNet34::PARAMETER_COUNT, 21_814_696);
    assert_eq!(ResNet50::PARAMETER_COUNT, 25_610_152);
    assert_eq!(ResNet18::INPUT_SHAPES, &[("image", "[N, 224, 224, 3]")]);
    assert_eq!(ResNet50::OUTPUT_SHAPES, &[("logits", "[N, 1000]")]);
}

#[test]
fn parameter_paths_follow_torchvision() {
    let graph = ResNet50::graph();
    let paths: Vec<&str> = graph.weights.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(&paths[..3], ["conv1.weight", "bn1.weight", "bn1.bias"]);
    for path in [
        "layer1.first.downsample.conv.weight",
        "layer2.first.conv2.weight",
        "layer3.rest.4.bn3.running_var",
        "layer4.rest.1.conv3.weight",
        "fc.bias",
    ] {
        assert!(paths.contains(&path), "{path} in {paths:?}");
    }
    let shape = |path: &str| &graph.weights.iter().find(|w| w.path == path).unwrap().shape;
    // NHWC weights, [filters, kh, kw, in]: the stride-2 3x3 of the block.
    assert_eq!(shape("layer2.first.conv2.weight"), &[128, 3, 3, 128]);
    assert_eq!(
        shape("layer4.first.downsample.conv.weight"),
        &[2048, 1, 1, 1024]
    );
    assert_eq!(shape("fc.weight"), &[1000, 2048]);
    let basic = ResNet34::graph();
    assert!(
        basic
            .weights
            .iter()
            .any(|w| w.path == "layer1.2.conv2.weight")
    );
    assert!(
        basic
            .weights
            .iter()
            .any(|w| w.path == "layer3.rest.4.bn2.bias")
    );
}

#[test]
fn the_bottleneck_design_runs_at_cpu_size() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MlxBackend::builder().seed(1).build()?;
    let params = BottleneckTiny::init(&backend)?;
    // Every layer's arrays, where the graph has them.
    assert_eq!(params.conv1.weight.shape(), &[4, 7, 7, 3]);
    assert_eq!(params.layer1.rest.len(), 1);
    assert_eq!(
        params.layer4.first.downsample.conv.weight.shape(),
        &[128, 1, 1, 64]
    );
    assert_eq!(params.fc.weight.shape(), &[10, 128]);
    assert_eq!(
        params.to_arrays().len(),
        BottleneckTiny::graph().weights.len()
    );
    let out = BottleneckTiny::forward(
        &params,
        &BottleneckResNetInputs {
            image: images(2, 32),
        },
    )?;
    assert_eq!(out.logits.shape(), &[2, 10]);
    Ok(())
}

#[test]
fn the_tiny_resnet_learns_a_batch() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MlxBackend::builder().seed(0).build()?;
    let mut params = ResNetTiny::init(&backend)?;
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<ResNetTiny, _>::new(&backend, &objective, Adam::new(1e-2))?;
    let n = 16;
    let inputs = BasicResNetInputs {
        image: images(n, 32),
    };
    let labels: Vec<i32> = (0..n).map(|i| i % 10).collect();
    let labels = Array::from_slice(&labels, &[n]);
    let mut losses = Vec::new();
    for _ in 0..30 {
        let loss = trainer.step(&mut params, &inputs, &labels)?.loss;
        losses.push(loss.item_cast::<f32>());
    }
    // Untrained: near chance, ln(10) = 2.30; 16 fixed images are learnt.
    assert!((losses[0] - 10f32.ln()).abs() < 1.0, "{losses:?}");
    assert!(losses[29] < 0.5 * losses[0], "{losses:?}");
    Ok(())
}

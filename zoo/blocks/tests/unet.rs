//! U-Net's parameter count by hand, its output shape, the upsampling
//! against a hand-written result, and a short training run.

use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};
use mithril_zoo::unet::{UNet64, UNetInputs, UNetTiny, Upsample2x, Upsample2xInputs};

/// A [`DoubleConv`](mithril_zoo::unet::DoubleConv)'s trainable parameters
/// and its batch norms' running statistics.
fn double_conv(inputs: usize, filters: usize) -> (usize, usize) {
    let trainable = 9 * inputs * filters + 2 * filters + 9 * filters * filters + 2 * filters;
    (trainable, 4 * filters)
}

/// U-Net's trainable parameters and buffers at width `b`, `c` channels in
/// and `k` classes out.
fn unet(b: usize, c: usize, k: usize) -> (usize, usize) {
    let blocks = [
        (c, b),
        (b, 2 * b),
        (2 * b, 4 * b),
        (4 * b, 8 * b),
        (8 * b, 16 * b),
        // The decoder: the skip's channels plus the upsampled ones.
        (8 * b + 16 * b, 8 * b),
        (4 * b + 8 * b, 4 * b),
        (2 * b + 4 * b, 2 * b),
        (b + 2 * b, b),
    ];
    let (trainable, buffers) = blocks
        .iter()
        .map(|&(i, f)| double_conv(i, f))
        .fold((0, 0), |(t, s), (a, b)| (t + a, s + b));
    (trainable + b * k + k, buffers)
}

#[test]
fn parameter_counts_by_hand() {
    let (trainable, buffers) = unet(64, 3, 2);
    assert_eq!((trainable, buffers), (31_384_898, 11_776));
    assert_eq!(UNet64::PARAMETER_COUNT, trainable + buffers);
    let graph = UNet64::graph();
    let trained: usize = graph
        .weights
        .iter()
        .filter(|w| w.trainable)
        .map(|w| w.len())
        .sum();
    assert_eq!(trained, trainable);
    let (trainable, buffers) = unet(4, 3, 2);
    assert_eq!(UNetTiny::PARAMETER_COUNT, trainable + buffers);
    let shape = |path: &str| &graph.weights.iter().find(|w| w.path == path).unwrap().shape;
    assert_eq!(shape("up1.conv.conv1.weight"), &[512, 3, 3, 1536]);
    assert_eq!(shape("outc.weight"), &[2, 1, 1, 64]);
}

#[test]
fn output_shapes() -> Result<(), Box<dyn std::error::Error>> {
    assert_eq!(UNet64::INPUT_SHAPES, &[("image", "[N, 256, 256, 3]")]);
    assert_eq!(UNet64::OUTPUT_SHAPES, &[("logits", "[N, 256, 256, 2]")]);
    assert_eq!(UNetTiny::OUTPUT_SHAPES, &[("logits", "[N, 32, 32, 2]")]);
    assert_eq!(Upsample2x::OUTPUT_SHAPES, &[("y", "[N, H*2, W*2, C]")]);
    let backend = MlxBackend::builder().seed(2).build()?;
    let params = UNetTiny::init(&backend)?;
    assert_eq!(params.outc.weight.shape(), &[2, 1, 1, 4]);
    assert_eq!(params.up4.conv.conv1.weight.shape(), &[4, 3, 3, 12]);
    let out = UNetTiny::forward(
        &params,
        &UNetInputs {
            image: Array::zeros::<f32>(&[3, 32, 32, 3])?,
        },
    )?;
    assert_eq!(out.logits.shape(), &[3, 32, 32, 2]);
    Ok(())
}

#[test]
fn upsampling_repeats_each_pixel() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MlxBackend::builder().build()?;
    let params = Upsample2x::init(&backend)?;
    // One image of 2x3 pixels, 2 channels: channel 1 is -channel 0.
    let x: Vec<f32> = (1..=6).flat_map(|v| [v as f32, -(v as f32)]).collect();
    let out = Upsample2x::forward(
        &params,
        &Upsample2xInputs {
            x: Array::from_slice(&x, &[1, 2, 3, 2]),
        },
    )?;
    assert_eq!(out.y.shape(), &[1, 4, 6, 2]);
    let rows = [
        [1, 1, 2, 2, 3, 3],
        [1, 1, 2, 2, 3, 3],
        [4, 4, 5, 5, 6, 6],
        [4, 4, 5, 5, 6, 6],
    ];
    let expected: Vec<f32> = rows
        .iter()
        .flatten()
        .flat_map(|&v| [v as f32, -(v as f32)])
        .collect();
    assert_eq!(out.y.as_slice::<f32>(), &expected[..]);
    Ok(())
}

#[test]
fn the_tiny_unet_learns_to_segment() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MlxBackend::builder().seed(0).build()?;
    let mut params = UNetTiny::init(&backend)?;
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<UNetTiny, _>::new(&backend, &objective, Adam::new(1e-2))?;
    // Pixels in [-1, 1) from a fixed generator; a pixel's class is whether
    // its three channels sum above 0.
    let (n, size) = (4, 32);
    let mut state = 7u32;
    let pixels: Vec<f32> = (0..n * size * size * 3)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1 << 23) as f32 - 1.0
        })
        .collect();
    let labels: Vec<i32> = pixels
        .chunks(3)
        .map(|p| i32::from(p.iter().sum::<f32>() > 0.0))
        .collect();
    let inputs = UNetInputs {
        image: Array::from_slice(&pixels, &[n, size, size, 3]),
    };
    let labels = Array::from_slice(&labels, &[n, size, size]);
    let mut losses = Vec::new();
    for _ in 0..30 {
        let loss = trainer.step(&mut params, &inputs, &labels)?.loss;
        losses.push(loss.item_cast::<f32>());
    }
    // Untrained: near chance, ln(2) = 0.69.
    assert!((losses[0] - 2f32.ln()).abs() < 0.5, "{losses:?}");
    assert!(losses[29] < 0.5 * losses[0], "{losses:?}");
    Ok(())
}

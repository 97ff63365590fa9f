//! Mithril's MLP: one layer per list entry, its counts, its outputs and a
//! short training run.

use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Scores, Trainer};
use mithril_zoo::mlp::{MlpInputs, MlpTiny, MnistMlp};

#[test]
fn one_layer_per_entry() {
    assert_eq!(
        MnistMlp::PARAMETER_COUNT,
        (784 * 128 + 128) + (128 * 64 + 64) + (64 * 10 + 10)
    );
    assert_eq!(MnistMlp::PARAMETER_COUNT, 109_386);
    assert_eq!(
        MlpTiny::PARAMETER_COUNT,
        (4 * 32 + 32) + (32 * 32 + 32) + (32 * 3 + 3)
    );
    let paths: Vec<String> = MnistMlp::graph()
        .weights
        .iter()
        .map(|w| format!("{} {:?}", w.path, w.shape))
        .collect();
    assert_eq!(
        paths,
        [
            "layers.0.weight [128, 784]",
            "layers.0.bias [128]",
            "layers.1.weight [64, 128]",
            "layers.1.bias [64]",
            "layers.2.weight [10, 64]",
            "layers.2.bias [10]",
        ]
    );
    assert_eq!(MlpTiny::INPUT_SHAPES, &[("x", "[B, 4]")]);
}

/// `n` points of 4 features in [-1, 1) from a fixed generator, and their
/// classes: which of the first three features is largest.
fn points(n: usize) -> (Array, Array) {
    let mut state = 99u32;
    let x: Vec<f32> = (0..n * 4)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1 << 23) as f32 - 1.0
        })
        .collect();
    let labels: Vec<i32> = x
        .chunks(4)
        .map(|p| (0..3).fold(0, |best, k| if p[k] > p[best] { k } else { best }) as i32)
        .collect();
    (
        Array::from_slice(&x, &[n as i32, 4]),
        Array::from_slice(&labels, &[n as i32]),
    )
}

#[test]
fn the_tiny_mlp_learns_its_points() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MlxBackend::builder().seed(0).build()?;
    let mut params = MlpTiny::init(&backend)?;
    assert_eq!(params.layers.len(), 3);
    let (x, labels) = points(32);
    let inputs = MlpInputs { x };
    // The last activation is LogSoftmax: each row's probabilities sum to 1.
    let out = MlpTiny::forward(&params, &inputs)?;
    let sums = out.y.exp()?.sum_axis(1, None)?;
    assert!(sums.all_close(Array::from_f32(1.0), 1e-5, 1e-5, None)?);
    let loss = Loss::CrossEntropy {
        scores: Scores::LogProbabilities,
        class_weights: None,
    };
    let objective = Objective::new("y", loss);
    let mut trainer = Trainer::<MlpTiny, _>::new(&backend, &objective, Adam::new(1e-2))?;
    let mut losses = Vec::new();
    for _ in 0..40 {
        let loss = trainer.step(&mut params, &inputs, &labels)?.loss;
        losses.push(loss.item_cast::<f32>());
    }
    // Untrained: near chance, ln(3) = 1.10.
    assert!((losses[0] - 3f32.ln()).abs() < 0.5, "{losses:?}");
    assert!(losses[39] < 0.5 * losses[0], "{losses:?}");
    Ok(())
}

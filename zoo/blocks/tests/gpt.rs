//! The GPT design trains: the CPU-sized model, in bf16 with f32 master
//! weights and AdamW through `Trainer`, as the GPU benchmark runs GPT-2 small.

use mithril::mlx_rs::builder::Builder;
use mithril::optimizers::AdamWBuilder;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};
use mithril_zoo::gpt::{
    Gpt2Inputs, Gpt2Large, Gpt2Medium, Gpt2Small, Gpt2SmallPadded, Gpt2Xl, GptSmall, GptTiny,
};

/// Token `t` of a sequence that repeats with period 7: easy to learn.
fn batch(b: i32, t: i32) -> (Array, Array) {
    let seq: Vec<i32> = (0..b * (t + 1))
        .map(|i| (i % (t + 1) * 3 + i / (t + 1)) % 7)
        .collect();
    let all = Array::from_slice(&seq, &[b, t + 1]);
    use mithril::mlx_rs::ops::indexing::IndexOp;
    (all.index((.., ..t)), all.index((.., 1..)))
}

#[test]
fn every_size_has_its_published_parameter_count() {
    // The token table is counted once (the head shares it).
    assert_eq!(Gpt2Small::PARAMETER_COUNT, 124_439_808);
    assert_eq!(Gpt2Medium::PARAMETER_COUNT, 354_823_168);
    assert_eq!(Gpt2Large::PARAMETER_COUNT, 774_030_080);
    assert_eq!(Gpt2Xl::PARAMETER_COUNT, 1_557_611_200);
    assert_eq!(Gpt2SmallPadded::PARAMETER_COUNT, 124_475_904);
    assert_eq!(
        GptSmall::PARAMETER_COUNT,
        50304 * 256 + 256 * 256 + 4 * 789_760 + 2 * 256
    );
    assert_eq!(Gpt2Xl::OUTPUT_SHAPES, &[("logits", "[B, T, 50257]")]);
}

#[test]
fn gpt2_small_has_gpt2s_parameter_paths() {
    let graph = mithril::graph_of::<Gpt2Small>();
    assert!(graph.weights.iter().all(|w| !w.path.starts_with("lm_head")));
    assert_eq!(graph.weights[0].path, "wte.weight");
    assert!(
        graph
            .weights
            .iter()
            .any(|w| w.path == "h.11.attn.out_proj.weight")
    );
}

#[test]
fn the_tiny_gpt_learns_in_bf16_with_f32_master_weights() -> Result<(), mithril::Error> {
    let backend = MlxBackend::builder()
        .seed(0)
        .dtype(DType::BF16)
        .master_weights(DType::F32)
        .compute_precision(DType::F32)
        .build()?;
    let mut params = GptTiny::init(&backend)?;
    assert_eq!(params.wte.weight.dtype(), mithril::mlx_rs::Dtype::Float32);
    let optimizer = AdamWBuilder::new(3e-3)
        .betas((0.9, 0.95))
        .weight_decay(0.01)
        .build()
        .map_err(|e| mithril::mlx_rs::error::Exception::custom(format!("{e:?}")))?;
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<GptTiny, _>::new(&backend, &objective, optimizer)?;
    let (t, b) = (32, 8);
    let (tokens, targets) = batch(b, t);
    let positions = Array::from_slice(&(0..t).collect::<Vec<i32>>(), &[t]);
    let inputs = Gpt2Inputs { tokens, positions };
    let mut losses = Vec::new();
    for _ in 0..40 {
        let loss = trainer.step(&mut params, &inputs, &targets)?.loss;
        losses.push(
            loss.as_dtype(mithril::mlx_rs::Dtype::Float32)?
                .item_exact::<f32>(),
        );
    }
    // Untrained: near chance, ln(512) = 6.24, plus half the variance of the
    // logits (about 1 with mlx.nn's embedding init, tied); the sequence is
    // learnable.
    assert!((losses[0] - 512f32.ln()).abs() < 1.5, "{losses:?}");
    assert!(losses[39] < losses[0] / 3.0, "{losses:?}");
    assert_eq!(params.wte.weight.dtype(), mithril::mlx_rs::Dtype::Float32);
    Ok(())
}

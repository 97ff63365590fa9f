//! ViT at torchvision's sizes has torchvision's parameter counts; the
//! CPU-sized instance trains.

use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};
use mithril_zoo::vit::{VitB16, VitB32, VitInputs, VitL16, VitL32, VitTiny};

/// `n` images of `size`x`size`x3 with values in [-1, 1) from a fixed
/// linear congruential generator.
fn images(n: i32, size: i32) -> Array {
    let mut state = 2024u32;
    let pixels: Vec<f32> = (0..n * size * size * 3)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1 << 23) as f32 - 1.0
        })
        .collect();
    Array::from_slice(&pixels, &[n, size, size, 3])
}

/// `0..tokens`, the static input every ViT takes.
fn positions(tokens: i32) -> Array {
    Array::from_slice(&(0..tokens).collect::<Vec<i32>>(), &[tokens])
}

#[test]
fn every_size_has_torchvisions_parameter_count() {
    assert_eq!(VitB16::PARAMETER_COUNT, 86_567_656);
    assert_eq!(VitB32::PARAMETER_COUNT, 88_224_232);
    assert_eq!(VitL16::PARAMETER_COUNT, 304_326_632);
    assert_eq!(VitL32::PARAMETER_COUNT, 306_535_400);
    // ViT-B/16 by hand: the patch convolution, the class token, 197
    // positions, 12 blocks (2 LayerNorms, attention's 4 projections with
    // biases, the MLP), the final LayerNorm and the head.
    let (d, hidden) = (768, 3072);
    let block = 2 * 2 * d + 4 * (d * d + d) + (d * hidden + hidden) + (hidden * d + d);
    assert_eq!(
        VitB16::PARAMETER_COUNT,
        (d * 16 * 16 * 3 + d) + d + 197 * d + 12 * block + 2 * d + (d * 1000 + 1000)
    );
    assert_eq!(VitB32::INPUT_SHAPES[1], ("positions", "[50]"));
    assert_eq!(VitL16::OUTPUT_SHAPES, &[("logits", "[N, 1000]")]);
    // Every array is trained (no buffers).
    assert!(VitB16::graph().weights.iter().all(|w| w.trainable));
}

#[test]
fn parameter_paths_follow_timm() {
    let graph = VitB16::graph();
    let shape = |path: &str| {
        &graph
            .weights
            .iter()
            .find(|w| w.path == path)
            .unwrap_or_else(|| panic!("no {path}"))
            .shape
    };
    assert_eq!(shape("patch_embed.weight"), &[768, 16, 16, 3]);
    assert_eq!(shape("cls_token.weight"), &[1, 768]);
    assert_eq!(shape("pos_embed.weight"), &[197, 768]);
    assert_eq!(shape("blocks.0.attn.query_proj.bias"), &[768]);
    assert_eq!(shape("blocks.11.mlp.fc1.weight"), &[3072, 768]);
    assert_eq!(shape("norm.weight"), &[768]);
    assert_eq!(shape("head.weight"), &[1000, 768]);
}

#[test]
fn the_tiny_vit_learns_a_batch() -> Result<(), Box<dyn std::error::Error>> {
    let backend = MlxBackend::builder().seed(0).build()?;
    let mut params = VitTiny::init(&backend)?;
    assert_eq!(params.blocks.len(), 2);
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<VitTiny, _>::new(&backend, &objective, Adam::new(3e-3))?;
    let n = 16;
    let inputs = VitInputs {
        image: images(n, 32),
        positions: positions(17),
    };
    let out = VitTiny::forward(&params, &inputs)?;
    assert_eq!(out.logits.shape(), &[16, 10]);
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

//! Families and instances of another crate (the zoo's GPT-2) used as layers.

use mithril::prelude::*;
use mithril_zoo::gpt::{Gpt2, GptTiny};

mithril::model! {
    /// The zoo's tiny instance, nested.
    Tiny {
        input tokens: [B, T], positions: [B, T];
        GptTiny(tokens, positions) -> Softmax => probs;
        output probs;
    }

    /// The zoo's family at a size of this crate's choosing.
    Narrow {
        input tokens: [B, T], positions: [B, T];
        lm: Gpt2(vocab = 32, context = 16, d = 16, heads = 2, layers = 3)(tokens, positions) => logits;
        output logits;
    }
}

#[test]
fn another_crates_families_and_instances_nest() -> Result<(), Box<dyn std::error::Error>> {
    assert_eq!(Tiny::PARAMETER_COUNT, GptTiny::PARAMETER_COUNT);
    let block = 2 * 16 + 4 * (16 * 16 + 16) + 2 * 16 + (16 * 64 + 64) + (64 * 16 + 16);
    assert_eq!(
        Narrow::PARAMETER_COUNT,
        32 * 16 + 16 * 16 + 3 * block + 2 * 16
    );
    let backend = MlxBackend::builder().seed(0).build()?;
    let params = Narrow::init(&backend)?;
    assert_eq!(params.lm.h.len(), 3);
    let tokens = Array::from_slice(&[1i32, 2, 3, 4], &[1, 4]);
    let positions = Array::from_slice(&[0i32, 1, 2, 3], &[1, 4]);
    let out = Narrow::forward(&params, &NarrowInputs { tokens, positions })?;
    assert_eq!(out.logits.shape(), &[1, 4, 32]);
    Ok(())
}

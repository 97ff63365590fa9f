//! `share`: a parameter that is another's (weight tying). The head has no
//! parameter of its own, its forward uses the embedding's table, and the
//! table's gradient sums both uses.

use mithril::prelude::*;

mithril::model! {
    pub TiedLm {
        input tokens: [B, T];
        tokens -> embed: Embedding(11, 4) -> Tanh => h;
        h -> head: Linear(11, bias = false) => logits;
        share head.weight = embed.weight;
        output logits;
    }

    /// The same model untied, to compare with.
    pub UntiedLm {
        input tokens: [B, T];
        tokens -> embed: Embedding(11, 4) -> Tanh => h;
        h -> head: Linear(11, bias = false) => logits;
        output logits;
    }

    /// Sharing works across nested models too: the head ties to a weight
    /// inside a block.
    Inner {
        input x: [B, 4];
        x -> proj: Linear(4) => y;
        output y;
    }
    Outer {
        input x: [B, 4];
        x -> inner: Inner -> back: Linear(4) => y;
        share back.weight = inner.proj.weight;
        output y;
    }
}

fn main() -> Result<(), mithril::Error> {
    // One array: the embedding's table (11 x 4); the head adds none.
    assert_eq!(TiedLm::PARAMETER_COUNT, 11 * 4);
    assert_eq!(Outer::PARAMETER_COUNT, 4 * 4 + 4 + 4);
    let backend = MlxBackend::builder().seed(3).build()?;
    let tied = TiedLm::init(&backend)?;
    let table = tied.embed.weight.clone();
    let untied = UntiedLmParams {
        embed: UntiedLmEmbedParams { weight: table.clone() },
        head: UntiedLmHeadParams { weight: table.clone() },
    };
    let tokens = Array::from_slice(&[1i32, 5, 9, 2, 0, 10], &[2, 3]);
    let cotangent = Array::ones::<f32>(&[2, 3, 11])?;

    let mut model = mithril::compile::<TiedLm>(&backend);
    let (out, grads) = model.evaluate_with_gradients(
        &tied,
        &TiedLmInputs { tokens: tokens.clone() },
        &[("logits", cotangent.clone())],
    )?;
    let mut reference = mithril::compile::<UntiedLm>(&backend);
    let (expected, untied_grads) = reference.evaluate_with_gradients(
        &untied,
        &UntiedLmInputs { tokens },
        &[("logits", cotangent)],
    )?;
    // Same forward, and the shared table's gradient is the sum of its two uses'.
    let close = |a: &Array, b: &Array| -> Result<bool, mithril::Error> {
        Ok(a.subtract(b)?.abs()?.max(None)?.item_exact::<f32>() < 1e-5)
    };
    assert!(close(&out.logits, &expected.logits)?);
    let summed = untied_grads.params.embed.weight.add(&untied_grads.params.head.weight)?;
    assert!(close(&grads.params.embed.weight, &summed)?);
    // The head's gradient alone is not the answer: the test could fail.
    assert!(!close(&grads.params.embed.weight, &untied_grads.params.head.weight)?);

    let outer = Outer::init(&backend)?;
    let y = Outer::forward(&outer, &OuterInputs { x: Array::ones::<f32>(&[2, 4])? })?.y;
    assert_eq!(y.shape(), &[2, 4]);
    Ok(())
}

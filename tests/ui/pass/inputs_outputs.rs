//! Several inputs (in one statement and in two) and several outputs.

use mithril::prelude::*;

mithril::model! {
    Siamese {
        input left: [B, 16], right: [B, 16];
        input bias: [B, 4];
        left -> encode_l: Linear(4) => l;
        right -> encode_r: Linear(4) => r;
        Add(l, r) => sum;
        Add(sum, bias) => score;
        score -> Softmax => probs;
        output score, probs, l;
    }
}

fn main() -> Result<(), mithril::Error> {
    assert_eq!(
        Siamese::INPUT_SHAPES,
        &[
            ("left", "[B, 16]"),
            ("right", "[B, 16]"),
            ("bias", "[B, 4]")
        ]
    );
    assert_eq!(
        Siamese::OUTPUT_SHAPES,
        &[("score", "[B, 4]"), ("probs", "[B, 4]"), ("l", "[B, 4]")]
    );
    assert_eq!(<SiameseInputs as Values>::NAMES, &["left", "right", "bias"]);
    assert_eq!(<SiameseOutputs as Values>::NAMES, &["score", "probs", "l"]);

    let backend = MlxBackend::builder().seed(3).build()?;
    let params = Siamese::init(&backend)?;
    let inputs = SiameseInputs {
        left: Array::ones::<f32>(&[2, 16])?,
        right: Array::ones::<f32>(&[2, 16])?,
        bias: Array::zeros::<f32>(&[2, 4])?,
    };
    let out = Siamese::forward(&params, &inputs)?;
    assert_eq!(out.score.shape(), &[2, 4]);
    assert_eq!(out.probs.shape(), &[2, 4]);
    assert_eq!(out.l.shape(), &[2, 4]);
    Ok(())
}

//! Inputs with symbolic dims are checked when the model runs.

use mithril::prelude::*;

mithril::model! {
    ConvNet {
        input image: [B, 28, 28, 1];
        image -> Conv2d(filters = 4, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> Flatten -> Linear(10) => logits;
        output logits;
    }
}

fn main() -> Result<(), mithril::Error> {
    let backend = MlxBackend::new()?;
    let params = ConvNet::init(&backend)?;
    let ok = ConvNet::forward(
        &params,
        &ConvNetInputs {
            image: Array::zeros::<f32>(&[3, 28, 28, 1])?,
        },
    )?;
    assert_eq!(ok.logits.shape(), &[3, 10]);
    let err = ConvNet::forward(
        &params,
        &ConvNetInputs {
            image: Array::zeros::<f32>(&[32, 28, 28, 3])?,
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "input `image`: expected [B, 28, 28, 1], got [32, 28, 28, 3] (axis 3)"
    );
    Ok(())
}

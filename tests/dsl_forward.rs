//! The guide's models and the grammar's features, compiled and run forward.

use mithril::prelude::*;

mithril::model! {
    /// The guide's classifier.
    pub Classifier {
        input input: [B, 784];
        input -> Linear(128) -> Relu -> Linear(64) -> Relu -> Linear(10) => logits;
        logits -> Softmax => output;
        output logits, output;
    }
}

mithril::model! {
    /// The guide's image model, NHWC.
    pub ConvNet {
        input image: [B, 28, 28, 1];
        image -> Conv2d(filters = 16, kernel = 3, stride = 1, padding = same) -> Relu -> MaxPool2d(2)
              -> Conv2d(filters = 32, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> Flatten -> Linear(64) -> Relu -> Linear(10) => logits;
        output logits;
    }
}

#[test]
fn classifier_runs_forward() {
    let backend = MlxBackend::builder().seed(1).build().unwrap();
    let params = Classifier::init(&backend).unwrap();
    let x = Array::ones::<f32>(&[5, 784]).unwrap();
    let out = Classifier::forward(&params, &ClassifierInputs { input: x }).unwrap();
    assert_eq!(out.logits.shape(), &[5, 10]);
    let sums = out.output.sum_axis(-1, None).unwrap();
    for s in sums.as_slice::<f32>() {
        assert!((s - 1.0).abs() < 1e-5);
    }
    println!("{}", Classifier::summary());
}

#[test]
fn convnet_runs_forward() {
    let backend = MlxBackend::new().unwrap();
    let params = ConvNet::init(&backend).unwrap();
    let x = Array::zeros::<f32>(&[2, 28, 28, 1]).unwrap();
    let out = ConvNet::forward(&params, &ConvNetInputs { image: x }).unwrap();
    assert_eq!(out.logits.shape(), &[2, 10]);
    let err = ConvNet::forward(
        &params,
        &ConvNetInputs {
            image: Array::zeros::<f32>(&[32, 28, 28, 3]).unwrap(),
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "input `image`: expected [B, 28, 28, 1], got [32, 28, 28, 3] (axis 3)"
    );
    println!("{}", ConvNet::summary());
}

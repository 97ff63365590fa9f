//! Half precision: f16 and bf16 activations, f32 master weights and f32
//! accumulation for softmax and the loss, training on real digits.

#[path = "common/mnist_dir.rs"]
mod mnist_dir;

use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer, accuracy};
use mithril_datasets::Mnist;
use mnist_dir::mnist_dir;

mithril::model! {
    Mlp {
        input image: [B, 784];
        image -> fc1: Linear(128) -> Relu -> fc2: Linear(10) => logits;
        output logits;
    }
}

fn train(dtype: DType) -> (f32, f32, MlpParams) {
    let backend = MlxBackend::builder()
        .seed(0)
        .dtype(dtype)
        .master_weights(DType::F32)
        .compute_precision(DType::F32)
        .build()
        .unwrap();
    let mut params = Mlp::init(&backend).unwrap();
    let data = Mnist::load_train_10k(mnist_dir()).unwrap();
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<Mlp, _>::new(&backend, &objective, Adam::new(1e-3)).unwrap();
    let mut losses = Vec::new();
    for step in 0..150 {
        let idx: Vec<usize> = (step * 64..(step + 1) * 64).collect();
        let x = Array::from_slice(&data.batch_pixels(&idx), &[64, 784]);
        let y = Array::from_slice(&data.batch_labels(&idx), &[64]);
        losses.push(
            trainer
                .step(&mut params, &MlpInputs { image: x }, &y)
                .unwrap()
                .loss
                .item_exact::<f32>(),
        );
    }
    let test = Mnist::load_test(mnist_dir()).unwrap();
    let idx: Vec<usize> = (0..1000).collect();
    let x = Array::from_slice(&test.batch_pixels(&idx), &[1000, 784]);
    let y = Array::from_slice(&test.batch_labels(&idx), &[1000]);
    let mut model = mithril::compile::<Mlp>(&backend);
    let out = model.evaluate(&params, &MlpInputs { image: x }).unwrap();
    assert_eq!(
        out.logits.dtype(),
        dtype.mlx(),
        "activations run in {dtype}"
    );
    let acc = accuracy(&out.logits, &y).unwrap();
    (losses[140..].iter().sum::<f32>() / 10.0, acc, params)
}

#[test]
fn f16_and_bf16_train_with_f32_master_weights() {
    for dtype in [DType::F16, DType::BF16] {
        let (loss, acc, params) = train(dtype);
        println!("{dtype}: final loss {loss:.3}, test accuracy {acc:.3}");
        assert_eq!(
            params.fc1.weight.dtype(),
            DType::F32.mlx(),
            "master weights stay f32"
        );
        assert!(loss.is_finite() && loss < 0.6, "{dtype}: loss {loss}");
        assert!(acc > 0.85, "{dtype}: accuracy {acc}");
    }
}

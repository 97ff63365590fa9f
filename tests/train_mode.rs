//! Training vs inference mode: Dropout (seeded, off at inference) and
//! BatchNorm (batch statistics in training, running statistics carried as
//! explicit state by the compiled train step).

use mithril::optimizers::Sgd;
use mithril::prelude::*;
use mithril::tensor::to_vec;
use mithril::train::{Loss, Objective, Trainer};

mithril::model! {
    Regularised {
        input x: [B, 6];
        x -> fc: Linear(8) -> bn: BatchNorm(momentum = 0.25) -> Relu -> drop: Dropout(0.5) -> head: Linear(3) => logits;
        output logits;
    }
}

fn data(backend: &MlxBackend) -> (RegularisedInputs, Array) {
    let x = backend.uniform(&[16, 6], -2.0, 2.0).unwrap();
    let y = Array::from_slice(&[0i32, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], &[16]);
    (RegularisedInputs { x }, y)
}

#[test]
fn buffers_are_named_like_mlx_nn_and_not_trained() {
    let graph = mithril::runtime::graph_of::<Regularised>();
    let names: Vec<(&str, bool)> = graph
        .weights
        .iter()
        .map(|w| (w.path.as_str(), w.trainable))
        .collect();
    assert_eq!(
        names,
        [
            ("fc.weight", true),
            ("fc.bias", true),
            ("bn.weight", true),
            ("bn.bias", true),
            ("bn.running_mean", false),
            ("bn.running_var", false),
            ("head.weight", true),
            ("head.bias", true),
        ]
    );
}

#[test]
fn inference_is_deterministic_and_uses_running_statistics() {
    let backend = MlxBackend::builder().seed(1).build().unwrap();
    let params = Regularised::init(&backend).unwrap();
    let (inputs, _) = data(&backend);
    let a = Regularised::forward(&params, &inputs).unwrap().logits;
    let b = mithril::compile::<Regularised>(&backend)
        .evaluate(&params, &inputs)
        .unwrap()
        .logits;
    assert_eq!(to_vec::<f32>(&a).unwrap(), to_vec::<f32>(&b).unwrap());
    // Fresh running statistics are mean 0 and variance 1.
    assert_eq!(
        to_vec::<f32>(&params.bn.running_mean).unwrap(),
        vec![0.0; 8]
    );
    assert_eq!(to_vec::<f32>(&params.bn.running_var).unwrap(), vec![1.0; 8]);
}

fn train(graph_mode: bool, steps: usize) -> (Vec<f32>, RegularisedParams) {
    let backend = MlxBackend::builder()
        .seed(9)
        .graph_mode(graph_mode)
        .build()
        .unwrap();
    let mut params = Regularised::init(&backend).unwrap();
    let (inputs, labels) = data(&backend);
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<Regularised, _>::new(&backend, &objective, Sgd::new(0.1)).unwrap();
    let losses = (0..steps)
        .map(|_| {
            trainer
                .step(&mut params, &inputs, &labels)
                .unwrap()
                .loss
                .item_exact::<f32>()
        })
        .collect();
    (losses, params)
}

#[test]
fn running_statistics_follow_the_batches() {
    let backend = MlxBackend::builder().seed(9).build().unwrap();
    let before = Regularised::init(&backend).unwrap();
    let (inputs, _) = data(&backend);
    let (_, after) = train(true, 1);
    // One step: running = 0.75 * old + 0.25 * batch statistic of fc's output.
    let h = inputs
        .x
        .matmul(before.fc.weight.t())
        .unwrap()
        .add(&before.fc.bias)
        .unwrap();
    let mean = to_vec::<f32>(&h.mean_axes(&[0], None).unwrap()).unwrap();
    let var = to_vec::<f32>(&h.var_axes(&[0], None, None).unwrap()).unwrap();
    let got_mean = to_vec::<f32>(&after.bn.running_mean).unwrap();
    let got_var = to_vec::<f32>(&after.bn.running_var).unwrap();
    for i in 0..8 {
        assert!((got_mean[i] - 0.25 * mean[i]).abs() < 1e-5, "mean[{i}]");
        assert!(
            (got_var[i] - (0.75 + 0.25 * var[i])).abs() < 1e-4,
            "var[{i}]"
        );
    }
}

#[test]
fn compiled_and_eager_training_agree_with_dropout_and_batch_norm() {
    let (compiled_losses, compiled) = train(true, 5);
    let (eager_losses, eager) = train(false, 5);
    for (a, b) in compiled_losses.iter().zip(&eager_losses) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    for (x, y) in compiled.to_arrays().iter().zip(&eager.to_arrays()) {
        let diff = x
            .subtract(y)
            .unwrap()
            .abs()
            .unwrap()
            .max(None)
            .unwrap()
            .item_exact::<f32>();
        assert!(diff < 1e-5, "{diff}");
    }
    // The same seed reproduces the run exactly; dropout makes steps differ.
    let (again, _) = train(true, 5);
    assert_eq!(again, compiled_losses);
}

#[test]
fn dropout_drops_about_p_in_training_only() {
    mithril::model! {
        Drop {
            input x: [N, 1000];
            x -> Dropout(0.3) => y;
            output y;
        }
    }
    let x = Array::ones::<f32>(&[4, 1000]).unwrap();
    let inputs = DropInputs { x: x.clone() };
    let graph = mithril::runtime::graph_of::<Drop>();
    let key = mithril::mlx_rs::random::key(0).unwrap();
    let (out, _) = mithril::runtime::run_graph_training(
        graph,
        &[],
        std::slice::from_ref(&x),
        &Default::default(),
        &key,
    )
    .unwrap();
    let values = to_vec::<f32>(&out[0]).unwrap();
    let dropped = values.iter().filter(|v| **v == 0.0).count() as f32 / values.len() as f32;
    assert!((dropped - 0.3).abs() < 0.03, "dropped {dropped}");
    assert!(
        values
            .iter()
            .all(|v| *v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6)
    );
    let inference = Drop::forward(&DropParams {}, &inputs).unwrap();
    assert_eq!(to_vec::<f32>(&inference.y).unwrap(), vec![1.0; 4000]);
}

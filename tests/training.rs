//! Training on MLX: losses, the compiled train step against eager, the
//! guide's two loops (manual SGD and Adam), and a classifier that learns
//! real MNIST digits from the repository's copy.

#[path = "common/mnist_dir.rs"]
mod mnist_dir;

use mithril::mlx_rs::builder::Builder;
use mithril::optimizers::{Adam, Sgd, SgdBuilder};
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Reduction, Scores, Trainer, accuracy, loss_value};
use mithril_datasets::Mnist;
use mnist_dir::mnist_dir;

mithril::model! {
    /// The guide's classifier (logits only; softmax lives in the loss).
    pub Mlp {
        input image: [B, 784];
        image -> fc1: Linear(128) -> Relu -> fc2: Linear(64) -> Relu -> fc3: Linear(10) => logits;
        output logits;
    }
}

fn batch(data: &Mnist, indices: &[usize]) -> (MlpInputs, Array) {
    let n = indices.len() as i32;
    let x = Array::from_slice(&data.batch_pixels(indices), &[n, 784]);
    let y = Array::from_slice(&data.batch_labels(indices), &[n]);
    (MlpInputs { image: x }, y)
}

fn scalar(a: &Array) -> f32 {
    a.item_exact::<f32>()
}

#[test]
fn losses_match_hand_computed_values() {
    let p = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
    let t = Array::from_slice(&[1.5f32, 2.0, 2.0, 6.0], &[2, 2]);
    let se = loss_value(&Loss::SquaredError, Reduction::Mean, &p, &t).unwrap();
    assert!((scalar(&se) - (0.25 + 0.0 + 1.0 + 4.0) / 4.0).abs() < 1e-6);
    let ae = loss_value(&Loss::AbsoluteError, Reduction::Sum, &p, &t).unwrap();
    assert!((scalar(&ae) - 3.5).abs() < 1e-6);

    // Cross-entropy from logits with integer labels, one-hot, and class weights.
    let logits = Array::from_slice(&[2.0f32, 0.0, 0.0, 0.0, 1.0, 3.0], &[2, 3]);
    let labels = Array::from_slice(&[0i32, 2], &[2]);
    let lse = |v: [f32; 3]| v.iter().map(|x| x.exp()).sum::<f32>().ln();
    let l0 = lse([2.0, 0.0, 0.0]) - 2.0;
    let l1 = lse([0.0, 1.0, 3.0]) - 3.0;
    let ce = loss_value(&Loss::cross_entropy(), Reduction::Mean, &logits, &labels).unwrap();
    assert!((scalar(&ce) - (l0 + l1) / 2.0).abs() < 1e-6);
    let one_hot = Array::from_slice(&[1.0f32, 0.0, 0.0, 0.0, 0.0, 1.0], &[2, 3]);
    let ce_hot = loss_value(&Loss::cross_entropy(), Reduction::Sum, &logits, &one_hot).unwrap();
    assert!((scalar(&ce_hot) - (l0 + l1)).abs() < 1e-5);
    let weighted = Loss::CrossEntropy {
        scores: Scores::Logits,
        class_weights: Some(vec![1.0, 1.0, 3.0]),
    };
    let ce_w = loss_value(&weighted, Reduction::Mean, &logits, &labels).unwrap();
    assert!((scalar(&ce_w) - (l0 + 3.0 * l1) / 4.0).abs() < 1e-6);

    // Binary cross-entropy from logits, hinge, KL divergence.
    let z = Array::from_slice(&[0.5f32, -1.0], &[2]);
    let y = Array::from_slice(&[1.0f32, 0.0], &[2]);
    let sig = |x: f32| 1.0 / (1.0 + (-x).exp());
    let bce = loss_value(&Loss::binary_cross_entropy(), Reduction::Mean, &z, &y).unwrap();
    let expected = -(sig(0.5).ln() + (1.0 - sig(-1.0)).ln()) / 2.0;
    assert!((scalar(&bce) - expected).abs() < 1e-6);
    let pm = Array::from_slice(&[1.0f32, -1.0], &[2]);
    let hinge = loss_value(&Loss::Hinge, Reduction::Sum, &z, &pm).unwrap();
    assert!((scalar(&hinge) - (0.5 + 0.0)).abs() < 1e-6);
    let logp = Array::from_slice(&[0.25f32.ln(), 0.75f32.ln()], &[1, 2]);
    let logq = Array::from_slice(&[0.5f32.ln(), 0.5f32.ln()], &[1, 2]);
    let kl = loss_value(&Loss::kl_divergence(), Reduction::Sum, &logp, &logq).unwrap();
    let expected = 0.5 * (0.5f32 / 0.25).ln() + 0.5 * (0.5f32 / 0.75).ln();
    assert!((scalar(&kl) - expected).abs() < 1e-6);
}

/// The loss and its gradient with respect to the prediction (cotangent 1).
fn loss_and_gradient(loss: &Loss, reduction: Reduction, p: &Array, t: &Array) -> (f64, Vec<f64>) {
    let f = |x: &[Array]| -> Result<Vec<Array>, mithril::mlx_rs::error::Exception> {
        Ok(vec![loss_value(loss, reduction, &x[0], t)?])
    };
    let (value, grads) = mithril::mlx_rs::transforms::fallible_vjp(
        f,
        std::slice::from_ref(p),
        &[Array::from_f32(1.0)],
    )
    .unwrap();
    let value = f64::from(value[0].item_exact::<f32>());
    let grad = grads[0]
        .as_slice::<f32>()
        .iter()
        .map(|&g| f64::from(g))
        .collect();
    (value, grad)
}

fn assert_close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

/// The losses of Mithril's catalogue that the trainer gained (quantile,
/// squared hinge, the cross-entropies of probabilities and
/// log-probabilities, robust logs, class weights with one-hot and
/// probability targets, a positive weight), against values and gradients
/// worked out by hand from their formulas.
#[test]
fn mithrils_losses_match_hand_computed_values() {
    // Quantile 0.4, errors e = t - y = [0.5, -2, 2, -2]: max(0.4 e, -0.6 e),
    // gradient -0.4 where e > 0 and 0.6 where e < 0 (Mithril's
    // test_quantile_loss_4 has the same values where e != 0).
    let y = Array::from_slice(&[1.0f32, 2.0, 0.0, 1.0], &[2, 2]);
    let t = Array::from_slice(&[1.5f32, 0.0, 2.0, -1.0], &[2, 2]);
    let (value, grad) =
        loss_and_gradient(&Loss::Quantile { quantile: 0.4 }, Reduction::Sum, &y, &t);
    assert_close("quantile", value, 0.2 + 1.2 + 0.8 + 1.2, 1e-6);
    for (g, want) in grad.iter().zip([-0.4, 0.6, -0.4, 0.6]) {
        assert_close("quantile gradient", *g, want, 1e-6);
    }

    // Squared hinge: max(0, 1 - z t)^2 = [0, 1.25^2, 1.5^2], gradient
    // -2 t max(0, 1 - z t) (Mithril's test_quad_hinge_loss_1: 0 and 1.5625).
    let z = Array::from_slice(&[2.0f32, 0.25, -0.5], &[3]);
    let pm = Array::from_slice(&[1.0f32, -1.0, 1.0], &[3]);
    let (value, grad) = loss_and_gradient(&Loss::SquaredHinge, Reduction::Mean, &z, &pm);
    assert_close("squared hinge", value, (0.0 + 1.5625 + 2.25) / 3.0, 1e-6);
    for (g, want) in grad.iter().zip([0.0, 2.5 / 3.0, -3.0 / 3.0]) {
        assert_close("squared hinge gradient", *g, want, 1e-6);
    }

    // Cross-entropy of probabilities, one of them 0 for its label: the plain
    // log gives infinity, the robust log log(t) + 0 / t - 1 with Mithril's
    // f32 cutoff t = 1.1754944e-38, and a finite gradient.
    let probs = Array::from_slice(&[0.7f32, 0.2, 0.1, 0.0, 0.5, 0.5], &[2, 3]);
    let labels = Array::from_slice(&[0i32, 0], &[2]);
    let plain = Loss::CrossEntropy {
        scores: Scores::Probabilities { robust: false },
        class_weights: None,
    };
    let robust = Loss::CrossEntropy {
        scores: Scores::Probabilities { robust: true },
        class_weights: None,
    };
    let inf = loss_value(&plain, Reduction::Mean, &probs, &labels).unwrap();
    assert!(scalar(&inf).is_infinite());
    let cutoff = 1.1754944e-38f64;
    let (value, grad) = loss_and_gradient(&robust, Reduction::Mean, &probs, &labels);
    assert_close(
        "robust cross-entropy",
        value,
        (-(0.7f64.ln()) - (cutoff.ln() - 1.0)) / 2.0,
        1e-6,
    );
    assert!(grad.iter().all(|g| g.is_finite()), "{grad:?}");
    assert_close(
        "robust cross-entropy gradient",
        grad[0],
        -1.0 / 0.7 / 2.0,
        1e-5,
    );

    // Class weights with one-hot and with probability targets, from
    // log-probabilities: loss_i = -sum_c w_c t_ic log p_ic, weight_i =
    // sum_c w_c t_ic, mean = sum loss_i / sum weight_i.
    let p = [[0.6f64, 0.3, 0.1], [0.2, 0.5, 0.3]];
    let log_p: Vec<f32> = p.iter().flatten().map(|x| x.ln() as f32).collect();
    let log_p = Array::from_slice(&log_p, &[2, 3]);
    let w = [1.0f64, 2.0, 3.0];
    let weighted = Loss::CrossEntropy {
        scores: Scores::LogProbabilities,
        class_weights: Some(w.iter().map(|&x| x as f32).collect()),
    };
    for targets in [
        [[0.0f64, 1.0, 0.0], [0.0, 0.0, 1.0]],
        [[0.5, 0.5, 0.0], [0.0, 0.25, 0.75]],
    ] {
        let (mut losses, mut weights) = (0.0, 0.0);
        for (row, t) in targets.iter().enumerate() {
            for c in 0..3 {
                losses -= w[c] * t[c] * p[row][c].ln();
                weights += w[c] * t[c];
            }
        }
        let t: Vec<f32> = targets.iter().flatten().map(|&x| x as f32).collect();
        let t = Array::from_slice(&t, &[2, 3]);
        let mean = loss_value(&weighted, Reduction::Mean, &log_p, &t).unwrap();
        assert_close(
            "weighted cross-entropy",
            f64::from(scalar(&mean)),
            losses / weights,
            1e-6,
        );
        let sum = loss_value(&weighted, Reduction::Sum, &log_p, &t).unwrap();
        assert_close(
            "weighted cross-entropy sum",
            f64::from(scalar(&sum)),
            losses,
            1e-6,
        );
    }
    // One-hot targets give what their indices give, from logits too.
    let logits = Array::from_slice(&[2.0f32, 0.0, -1.0, 0.5, 1.0, 3.0], &[2, 3]);
    let one_hot = Array::from_slice(&[0.0f32, 1.0, 0.0, 0.0, 0.0, 1.0], &[2, 3]);
    let indices = Array::from_slice(&[1i32, 2], &[2]);
    let by_logits = Loss::CrossEntropy {
        scores: Scores::Logits,
        class_weights: Some(vec![1.0, 2.0, 3.0]),
    };
    let a = loss_value(&by_logits, Reduction::Mean, &logits, &one_hot).unwrap();
    let b = loss_value(&by_logits, Reduction::Mean, &logits, &indices).unwrap();
    assert_close(
        "one-hot vs indices",
        f64::from(scalar(&a)),
        f64::from(scalar(&b)),
        1e-6,
    );

    // Binary cross-entropy of probabilities with a positive weight 2, plain
    // and robust (a probability of exactly 0 for a positive target), and from
    // logits with the same weight: -2 t log p - (1 - t) log(1 - p).
    let bce = |p: f64, t: f64| -2.0 * t * p.ln() - (1.0 - t) * (1.0 - p).ln();
    let probs = Array::from_slice(&[0.8f32, 0.3, 0.0], &[3]);
    let targets = Array::from_slice(&[1.0f32, 0.0, 1.0], &[3]);
    let robust_bce = Loss::BinaryCrossEntropy {
        scores: Scores::Probabilities { robust: true },
        positive_weight: 2.0,
    };
    let (value, grad) = loss_and_gradient(&robust_bce, Reduction::Sum, &probs, &targets);
    let zero = -2.0 * (cutoff.ln() - 1.0);
    assert_close(
        "robust binary cross-entropy",
        value,
        bce(0.8, 1.0) + bce(0.3, 0.0) + zero,
        1e-6,
    );
    assert_close("its gradient at 0.8", grad[0], -2.0 / 0.8, 1e-5);
    assert!(grad[2].is_finite(), "{grad:?}");
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let x = [1.5f64, -0.5, 0.0];
    let logits = Array::from_slice(&x.map(|v| v as f32), &[3]);
    let weighted_logits = Loss::BinaryCrossEntropy {
        scores: Scores::Logits,
        positive_weight: 2.0,
    };
    let value = loss_value(&weighted_logits, Reduction::Sum, &logits, &targets).unwrap();
    let want: f64 = x
        .iter()
        .zip([1.0, 0.0, 1.0])
        .map(|(&x, t)| bce(sig(x), t))
        .sum();
    assert_close(
        "weighted binary cross-entropy from logits",
        f64::from(scalar(&value)),
        want,
        1e-6,
    );
    let refused = Loss::BinaryCrossEntropy {
        scores: Scores::LogProbabilities,
        positive_weight: 1.0,
    };
    assert!(loss_value(&refused, Reduction::Sum, &logits, &targets).is_err());
}

/// Mithril's `KLDivergence` (probabilities, robust log) against the three
/// cases of Mithril's own tests (`test_kl_divergence_1` to `_3` in its
/// tests/scripts/test_primitive_directed.py: elementwise values, and input
/// gradients for an output gradient of ones, the gradient of the sum).
#[test]
fn mithrils_kl_divergence_matches_its_reference_values() {
    let kl = Loss::KlDivergence {
        scores: Scores::Probabilities { robust: true },
    };
    // (input, target, values, input gradients), each a 2x2 array in row order.
    type Case = ([f32; 4], [f32; 4], [f64; 4], [f64; 4]);
    let cases: [Case; 3] = [
        (
            [0.1, 0.5, 0.5, 0.1],
            [0.2, 0.5, 0.2, 0.4],
            [
                0.1386294361119891,
                0.0,
                -0.183258146374831,
                0.5545177444479562,
            ],
            [-2.0, -1.0, -0.4, -4.0],
        ),
        (
            [0.1, 0.5, 0.5, 0.1],
            [0.1, 0.5, 0.5, 0.1],
            [0.0; 4],
            [-1.0; 4],
        ),
        (
            // Mithril's 1.1102230246251565e-16, as an f32.
            [1.110_223e-16, 0.5, 0.5, 0.1],
            [0.1, 0.5, 0.5, 0.1],
            [3.443421547668306, 0.0, 0.0, 0.0],
            [-900719925474099.2, -1.0, -1.0, -1.0],
        ),
    ];
    for (input, target, values, gradient) in cases {
        let y = Array::from_slice(&input, &[2, 2]);
        let t = Array::from_slice(&target, &[2, 2]);
        let (sum, grad) = loss_and_gradient(&kl, Reduction::Sum, &y, &t);
        assert_close("KL divergence (sum)", sum, values.iter().sum(), 1e-5);
        let mean = loss_value(&kl, Reduction::Mean, &y, &t).unwrap();
        assert_close(
            "KL divergence (mean over elements)",
            f64::from(scalar(&mean)),
            values.iter().sum::<f64>() / 4.0,
            1e-5,
        );
        for (g, want) in grad.iter().zip(gradient) {
            assert_close("KL divergence gradient", *g, want, 1e-5);
        }
    }
    // Without the robust log a target of 0 contributes 0 (0 log 0 = 0), and
    // the rest is the same.
    let plain = Loss::KlDivergence {
        scores: Scores::Probabilities { robust: false },
    };
    let y = Array::from_slice(&[0.25f32, 0.75], &[1, 2]);
    let t = Array::from_slice(&[0.0f32, 1.0], &[1, 2]);
    let (value, grad) = loss_and_gradient(&plain, Reduction::Sum, &y, &t);
    assert_close("plain KL divergence", value, -(0.75f64.ln()), 1e-6);
    assert_close("its gradient", grad[1], -1.0 / 0.75, 1e-6);
    assert_eq!(grad[0], 0.0);
    let logits = Loss::KlDivergence {
        scores: Scores::Logits,
    };
    assert!(loss_value(&logits, Reduction::Sum, &y, &t).is_err());
}

#[test]
fn penalties_add_to_the_loss_and_unknown_names_are_errors() {
    let backend = MlxBackend::builder().seed(4).build().unwrap();
    let params = Mlp::init(&backend).unwrap();
    let data = Mnist::load_test(mnist_dir()).unwrap();
    let (inputs, labels) = batch(&data, &[0, 1, 2, 3]);
    let plain = Objective::new("logits", Loss::cross_entropy());
    let l2 = plain.clone().l2(0.5, ["fc1.weight"]).l1(0.25, ["fc3."]);
    let mut a = Trainer::<Mlp, _>::new(&backend, &plain, Sgd::new(0.1)).unwrap();
    let mut b = Trainer::<Mlp, _>::new(&backend, &l2, Sgd::new(0.1)).unwrap();
    let (la, _) = a.loss_and_gradients(&params, &inputs, &labels).unwrap();
    let (lb, gb) = b.loss_and_gradients(&params, &inputs, &labels).unwrap();
    let sq = params.fc1.weight.square().unwrap().sum(None).unwrap();
    let abs3 = params
        .fc3
        .weight
        .abs()
        .unwrap()
        .sum(None)
        .unwrap()
        .add(params.fc3.bias.abs().unwrap().sum(None).unwrap())
        .unwrap();
    let expected = scalar(&la) + 0.5 * scalar(&sq) + 0.25 * scalar(&abs3);
    assert!(
        (scalar(&lb) - expected).abs() < 1e-3 * expected.abs(),
        "{} vs {expected}",
        scalar(&lb)
    );
    assert_eq!(gb.fc1.weight.shape(), &[128, 784]);

    let bad = Objective::new("logits", Loss::cross_entropy()).l2(1.0, ["fc9.weight"]);
    let err = Trainer::<Mlp, _>::new(&backend, &bad, Sgd::new(0.1))
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "model `Mlp` has no parameter `fc9.weight`");
    let err = Trainer::<Mlp, _>::new(
        &backend,
        &Objective::new("probs", Loss::cross_entropy()),
        Sgd::new(0.1),
    )
    .err()
    .unwrap();
    assert_eq!(
        err.to_string(),
        "model `Mlp` has no output `probs` (its outputs: logits)"
    );
}

fn run_steps(graph_mode: bool, steps: usize) -> (Vec<f32>, MlpParams) {
    let backend = MlxBackend::builder()
        .seed(7)
        .graph_mode(graph_mode)
        .build()
        .unwrap();
    let mut params = Mlp::init(&backend).unwrap();
    let data = Mnist::load_train_10k(mnist_dir()).unwrap();
    let objective = Objective::new("logits", Loss::cross_entropy());
    let sgd = SgdBuilder::new(0.05)
        .momentum(0.9)
        .nesterov(true)
        .weight_decay(1e-4)
        .build()
        .unwrap();
    let mut trainer = Trainer::<Mlp, _>::new(&backend, &objective, sgd).unwrap();
    let mut losses = Vec::new();
    for s in 0..steps {
        let idx: Vec<usize> = (s * 32..(s + 1) * 32).collect();
        let (inputs, labels) = batch(&data, &idx);
        losses.push(scalar(
            &trainer.step(&mut params, &inputs, &labels).unwrap().loss,
        ));
    }
    (losses, params)
}

#[test]
fn compiled_and_eager_train_steps_agree() {
    let (compiled_losses, compiled) = run_steps(true, 6);
    let (eager_losses, eager) = run_steps(false, 6);
    for (a, b) in compiled_losses.iter().zip(&eager_losses) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "loss {a} vs {b}");
    }
    let (a, b) = (compiled.to_arrays(), eager.to_arrays());
    for (x, y) in a.iter().zip(&b) {
        let diff = x.subtract(y).unwrap().abs().unwrap().max(None).unwrap();
        assert!(
            scalar(&diff) < 1e-5,
            "max parameter difference {}",
            scalar(&diff)
        );
    }
}

#[test]
fn a_new_batch_size_retraces_and_still_agrees() {
    let backend = MlxBackend::builder().seed(2).build().unwrap();
    let params = Mlp::init(&backend).unwrap();
    let data = Mnist::load_test(mnist_dir()).unwrap();
    let mut model = mithril::compile::<Mlp>(&backend);
    for n in [8usize, 3, 8] {
        let idx: Vec<usize> = (0..n).collect();
        let (inputs, _) = batch(&data, &idx);
        let compiled = model.evaluate(&params, &inputs).unwrap();
        let eager = Mlp::forward(&params, &inputs).unwrap();
        assert_eq!(compiled.logits.shape(), &[n as i32, 10]);
        let diff = compiled
            .logits
            .subtract(&eager.logits)
            .unwrap()
            .abs()
            .unwrap()
            .max(None)
            .unwrap();
        assert!(scalar(&diff) < 1e-5);
    }
}

/// The guide's first loop: gradients from the compiled model, update by hand.
#[test]
fn manual_sgd_loop_lowers_the_loss() {
    let backend = MlxBackend::builder().seed(11).build().unwrap();
    let mut params = Mlp::init(&backend).unwrap();
    let data = Mnist::load_train_10k(mnist_dir()).unwrap();
    let (inputs, labels) = batch(&data, &(0..256).collect::<Vec<_>>());
    let mut trainer = Trainer::<Mlp, _>::new(
        &backend,
        &Objective::new("logits", Loss::cross_entropy()),
        Sgd::new(0.1),
    )
    .unwrap();
    let mut losses = Vec::new();
    for _ in 0..60 {
        let (loss, grads) = trainer
            .loss_and_gradients(&params, &inputs, &labels)
            .unwrap();
        losses.push(scalar(&loss));
        params = params
            .try_zip_map(&grads, &mut |p, g| {
                p.subtract(g.multiply(Array::from_f32(0.2))?)
            })
            .unwrap();
    }
    println!("manual SGD: loss {} -> {}", losses[0], losses[59]);
    assert!(
        losses[59] < 0.5 * losses[0],
        "loss {} -> {}",
        losses[0],
        losses[59]
    );
}

/// The guide's second loop: Adam through mlx-rs, on the committed MNIST digits.
#[test]
fn classifier_learns_mnist_with_adam() {
    let backend = MlxBackend::builder().seed(0).build().unwrap();
    let mut params = Mlp::init(&backend).unwrap();
    let train = Mnist::load_train_10k(mnist_dir()).unwrap();
    let test = Mnist::load_test(mnist_dir()).unwrap();
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<Mlp, _>::new(&backend, &objective, Adam::new(1e-3)).unwrap();
    let (eval_inputs, eval_labels) = batch(&test, &(0..2000).collect::<Vec<_>>());
    let before = accuracy(
        &Mlp::forward(&params, &eval_inputs).unwrap().logits,
        &eval_labels,
    )
    .unwrap();

    let mut losses = Vec::new();
    for step in 0..300 {
        let start = (step * 128) % (train.len() - 128);
        let (inputs, labels) = batch(&train, &(start..start + 128).collect::<Vec<_>>());
        losses.push(scalar(
            &trainer.step(&mut params, &inputs, &labels).unwrap().loss,
        ));
    }
    let after = accuracy(
        &Mlp::forward(&params, &eval_inputs).unwrap().logits,
        &eval_labels,
    )
    .unwrap();
    let first: f32 = losses[..20].iter().sum::<f32>() / 20.0;
    let last: f32 = losses[280..].iter().sum::<f32>() / 20.0;
    println!("loss {first:.3} -> {last:.3}, test accuracy {before:.3} -> {after:.3}");
    assert!(last < 0.3 * first, "loss {first} -> {last}");
    assert!(after > 0.88, "test accuracy after 300 steps: {after}");
}

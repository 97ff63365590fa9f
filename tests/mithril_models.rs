//! Classic models of Mithril's library written in `model!` from the math
//! layers (logistic regression, polynomial features and regression, an RBF
//! kernel, a pairwise distance matrix, an RBF network with fixed centres),
//! and what they rely on: numbers as operands, `buffer` state and `static`
//! inputs.
//!
//! Each model runs on the inputs and parameters of its fixture in
//! `tests/fixtures/models/` (made by `scripts/fixtures/make_model_fixtures.py`
//! from Mithril's own formulas with Python MLX 0.32.2, and checked there
//! against a NumPy float64 evaluation); its outputs, and its gradients for
//! the fixture's cotangent, must match the fixture in both modes.

use std::collections::HashMap;

use mithril::checkpoint::Progress;
use mithril::mlx_rs::{Array, Dtype};
use mithril::optimizers::Adam;
use mithril::train::{Loss, Objective, Scores, Trainer};
use mithril::{DType, MlxBackend, Model, Params, Values};

mithril::model! {
    /// Mithril's LogisticRegression: a linear score and its probability.
    LogisticRegression {
        input x: [N, 3];
        x -> linear: Linear(1) => logits;
        logits -> Sigmoid => probs;
        output logits, probs;
    }

    /// Mithril's PolynomialFeatures of degree 2 on two features, in its
    /// order: x1, x2, x1^2, x1 x2, x2^2.
    PolynomialFeatures {
        input x: [N, 2];
        x -> Slice(1, 0, 1) => x1;
        x -> Slice(1, 1, 2) => x2;
        x1 -> Square => x1x1;
        Multiply(x1, x2) => x1x2;
        x2 -> Square => x2x2;
        Concat(axis = 1)(x, x1x1, x1x2, x2x2) => features;
        output features;
    }

    /// Mithril's PolynomialRegression: the features, then a linear map.
    PolynomialRegression {
        input x: [N, 2];
        x -> PolynomialFeatures => features;
        features -> linear: Linear(1) => y;
        output features, y;
    }

    /// Mithril's RBFKernel: l^2 exp(-|x1_i - x2_j|^2 / (2 sigma^2)).
    RbfKernel {
        input x1: [N, D], x2: [M, D], l_scale: [1], sigma: [1];
        x1 -> Unsqueeze(1) => a;
        x2 -> Unsqueeze(0) => b;
        Subtract(a, b) -> Square -> Sum(axes = 2) -> Multiply(-0.5) => scaled;
        sigma -> Square => sigma2;
        Divide(scaled, sigma2) -> Exp => k;
        Multiply(l_scale, l_scale) => l2;
        Multiply(l2, k) => y;
        output y;
    }

    /// Mithril's EncoderDistanceMatrix (norm 2, robust): the sum of powered
    /// absolute differences, then its robust root, whose gradient stays
    /// finite where two points coincide.
    DistanceMatrix {
        input x1: [N, D], x2: [M, D];
        x1 -> Unsqueeze(1) => a;
        x2 -> Unsqueeze(0) => b;
        Subtract(a, b) -> Abs -> Power(2) -> Sum(axes = 2) => powered;
        RobustPower(powered, 0.5) => distances;
        output distances;
    }

    /// An RBF network with fixed centres (state, not trained) and a width
    /// given with the data (not differentiated).
    RbfNetwork {
        input x: [N, 2];
        static gamma: [1];
        buffer centers: [4, 2];
        x -> Unsqueeze(1) => xa;
        centers -> Unsqueeze(0) => cb;
        Subtract(xa, cb) -> Square -> Sum(axes = 2) => d2;
        Multiply(d2, gamma) -> Negate -> Exp => phi;
        phi -> head: Linear(1) => y;
        output y;
    }
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/models");

/// Mithril (f32) vs the fixture (f32, the same MLX ops in another order).
const TOL: (f64, f64) = (2e-6, 1e-5);

fn values(a: &Array) -> Vec<f64> {
    let a = a.as_dtype(Dtype::Float32).unwrap();
    a.as_slice::<f32>().iter().map(|&v| f64::from(v)).collect()
}

fn compare(what: &str, got: &Array, want: &Array) -> Result<(), String> {
    if got.shape() != want.shape() {
        return Err(format!(
            "{what}: shape {:?}, expected {:?}",
            got.shape(),
            want.shape()
        ));
    }
    for (i, (g, w)) in values(got).iter().zip(values(want)).enumerate() {
        if (g - w).abs() > TOL.0 + TOL.1 * w.abs() || g.is_nan() {
            return Err(format!("{what}[{i}]: {g:e}, expected {w:e}"));
        }
    }
    Ok(())
}

/// Runs `M` on its fixture, compiled and eager: every output, and every
/// gradient for the fixture's cotangent (parameters under their paths).
fn check_fixture<M: Model>(case: &str) -> Result<(), String> {
    let path = format!("{FIXTURES}/{case}.safetensors");
    let fixture: HashMap<String, Array> =
        Array::load_safetensors(&path).map_err(|e| format!("{path}: {e}"))?;
    let get = |key: &str| {
        fixture
            .get(key)
            .cloned()
            .ok_or_else(|| format!("{case}: no `{key}`"))
    };
    let graph = mithril::runtime::graph_of::<M>();
    let weights = graph
        .weights
        .iter()
        .map(|w| get(&format!("weight.{}", w.path)))
        .collect::<Result<Vec<_>, _>>()?;
    let inputs = M::Inputs::NAMES
        .iter()
        .map(|n| get(&format!("input.{n}")))
        .collect::<Result<Vec<_>, _>>()?;
    let (output, cotangent) = fixture
        .iter()
        .find_map(|(k, v)| Some((k.strip_prefix("cotangent.")?, v.clone())))
        .ok_or("no cotangent")?;
    for graph_mode in [true, false] {
        let mode = if graph_mode { "compiled" } else { "eager" };
        let backend = MlxBackend::builder()
            .graph_mode(graph_mode)
            .build()
            .map_err(|e| e.to_string())?;
        let params = M::Params::from_arrays(&mut weights.iter().cloned()).ok_or("params")?;
        let model_inputs = M::Inputs::from_arrays(inputs.clone()).ok_or("inputs")?;
        let mut model = mithril::compile::<M>(&backend);
        let (outputs, grads) = model
            .evaluate_with_gradients(&params, &model_inputs, &[(output, cotangent.clone())])
            .map_err(|e| format!("{case} {mode}: {e}"))?;
        for (name, got) in M::Outputs::NAMES.iter().zip(outputs.arrays()) {
            compare(
                &format!("{case} {mode} {name}"),
                got,
                &get(&format!("output.{name}"))?,
            )?;
        }
        for (name, got) in M::Inputs::NAMES.iter().zip(grads.inputs.arrays()) {
            let want = get(&format!("grad.input.{name}"))?;
            compare(&format!("{case} {mode} gradient of {name}"), got, &want)?;
        }
        for (w, got) in graph.weights.iter().zip(grads.params.to_arrays()) {
            let want = get(&format!("grad.weight.{}", w.path))?;
            compare(
                &format!("{case} {mode} gradient of {}", w.path),
                &got,
                &want,
            )?;
        }
    }
    Ok(())
}

#[test]
fn classic_models_match_mithrils_formulas() {
    let results = [
        check_fixture::<LogisticRegression>("logistic_regression"),
        check_fixture::<PolynomialRegression>("polynomial_regression"),
        check_fixture::<RbfKernel>("rbf_kernel"),
        check_fixture::<DistanceMatrix>("distance_matrix"),
        check_fixture::<RbfNetwork>("rbf_network"),
    ];
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Shapes flow through the compositions symbolically.
#[test]
fn shapes_are_inferred() {
    assert_eq!(PolynomialFeatures::OUTPUT_SHAPES, &[("features", "[N, 5]")]);
    assert_eq!(RbfKernel::OUTPUT_SHAPES, &[("y", "[N, M]")]);
    assert_eq!(DistanceMatrix::OUTPUT_SHAPES, &[("distances", "[N, M]")]);
    assert_eq!(
        LogisticRegression::OUTPUT_SHAPES,
        &[("logits", "[N, 1]"), ("probs", "[N, 1]")]
    );
}

/// The trainer takes the probabilities with Mithril's robust binary
/// cross-entropy: logistic regression separates two clusters.
#[test]
fn logistic_regression_trains_on_probabilities() {
    let backend = MlxBackend::builder().seed(3).build().unwrap();
    let mut params = LogisticRegression::init(&backend).unwrap();
    let x: Vec<f32> = (0..16)
        .flat_map(|i| {
            let side = if i % 2 == 0 { 1.0 } else { -1.0 };
            [
                side * (1.0 + 0.1 * i as f32),
                side * 0.5,
                0.2 * (i % 3) as f32,
            ]
        })
        .collect();
    let labels: Vec<f32> = (0..16)
        .map(|i| if i % 2 == 0 { 1.0 } else { 0.0 })
        .collect();
    let inputs = LogisticRegressionInputs {
        x: Array::from_slice(&x, &[16, 3]),
    };
    let targets = Array::from_slice(&labels, &[16, 1]);
    let loss = Loss::BinaryCrossEntropy {
        scores: Scores::Probabilities { robust: true },
        positive_weight: 1.0,
    };
    let objective = Objective::new("probs", loss);
    let mut trainer =
        Trainer::<LogisticRegression, _>::new(&backend, &objective, Adam::new(0.1)).unwrap();
    let first = trainer.step(&mut params, &inputs, &targets).unwrap().loss;
    let mut last = first.clone();
    for _ in 0..60 {
        last = trainer.step(&mut params, &inputs, &targets).unwrap().loss;
    }
    let (first, last) = (first.item_exact::<f32>(), last.item_exact::<f32>());
    assert!(last < 0.1 * first, "loss {first} -> {last}");
    let probs = LogisticRegression::forward(&params, &inputs).unwrap().probs;
    let right = values(&probs)
        .iter()
        .zip(&labels)
        .filter(|(p, t)| (**p > 0.5) == (**t > 0.5))
        .count();
    assert_eq!(right, 16);
}

/// A buffer is state: a parameter field (`params.centers`) under its own
/// path, initialised by its fill, saved and loaded with the parameters and
/// in checkpoints; never trained (no gradient, no optimizer state, the same
/// after training). A `static` input gets no gradient.
#[test]
fn buffers_are_state_and_static_inputs_data() {
    let graph = mithril::runtime::graph_of::<RbfNetwork>();
    let centers = graph.weights.iter().find(|w| w.path == "centers").unwrap();
    assert!(!centers.trainable);
    assert_eq!(centers.shape, [4, 2]);
    assert_eq!(RbfNetwork::PARAMETER_COUNT, 8 + 4 + 1);
    assert!(!graph.inputs[1].differentiable && graph.inputs[0].differentiable);

    let backend = MlxBackend::builder().seed(1).build().unwrap();
    let mut params = RbfNetwork::init(&backend).unwrap();
    assert!(values(&params.centers).iter().all(|&v| v == 0.0));
    let grid = [-1.0f32, -1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0];
    params.centers = Array::from_slice(&grid, &[4, 2]);
    let x: Vec<f32> = (0..12).map(|i| ((i * 7) % 5) as f32 * 0.4 - 0.8).collect();
    let inputs = RbfNetworkInputs {
        x: Array::from_slice(&x, &[6, 2]),
        gamma: Array::from_slice(&[0.5f32], &[1]),
    };
    let mut model = mithril::compile::<RbfNetwork>(&backend);
    let (_, grads) = model
        .evaluate_with_gradients(
            &params,
            &inputs,
            &[("y", Array::ones::<f32>(&[6, 1]).unwrap())],
        )
        .unwrap();
    assert!(values(&grads.params.centers).iter().all(|&v| v == 0.0));
    assert!(values(&grads.inputs.gamma).iter().all(|&v| v == 0.0));
    assert!(values(&grads.inputs.x).iter().any(|&v| v != 0.0));
    assert!(values(&grads.params.head.weight).iter().any(|&v| v != 0.0));

    let targets = Array::from_slice(&[0.5f32, -0.5, 1.0, 0.0, 0.25, -1.0], &[6, 1]);
    let objective = Objective::new("y", Loss::SquaredError);
    let mut trainer = Trainer::<RbfNetwork, _>::new(&backend, &objective, Adam::new(0.05)).unwrap();
    let head_before = values(&params.head.weight);
    for _ in 0..3 {
        trainer.step(&mut params, &inputs, &targets).unwrap();
    }
    assert_eq!(values(&params.centers), grid.map(f64::from));
    assert_ne!(values(&params.head.weight), head_before);

    let dir = std::env::temp_dir().join(format!("mithril-buffers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let checkpoint = dir.join("checkpoint.safetensors");
    trainer
        .save_checkpoint(&checkpoint, &params, &Progress::default())
        .unwrap();
    let saved: HashMap<String, Array> = Array::load_safetensors(&checkpoint).unwrap();
    assert!(saved.contains_key("params.centers"), "{:?}", saved.keys());
    assert!(saved.keys().any(|k| k.starts_with("optimizer.head.weight")));
    assert!(!saved.keys().any(|k| k.starts_with("optimizer.centers")));

    let file = dir.join("params.safetensors");
    mithril::io::save_params::<RbfNetwork>(&params, &file).unwrap();
    let loaded = mithril::io::load_params::<RbfNetwork>(&file, DType::F32).unwrap();
    assert_eq!(values(&loaded.centers), grid.map(f64::from));
    std::fs::remove_dir_all(&dir).unwrap();
}

mithril::model! {
    Scaled {
        input x: [N, 3];
        x -> Multiply(0.1) -> Add(1) => y;
        output y;
    }

    Indices {
        input k: [N];
        Add(k, 1) => y;
        output y;
    }
}

/// A number written in a model takes the dtype of the values it meets (the
/// model's, f16 or bf16 too), or the model's dtype against integers.
#[test]
fn numbers_take_the_models_dtype() {
    for dtype in [DType::F16, DType::BF16, DType::F32] {
        let backend = MlxBackend::builder().dtype(dtype).build().unwrap();
        let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3])
            .as_dtype(dtype.mlx())
            .unwrap();
        let y = mithril::compile::<Scaled>(&backend)
            .evaluate(&ScaledParams {}, &ScaledInputs { x })
            .unwrap()
            .y;
        assert_eq!(y.dtype(), dtype.mlx(), "{dtype:?}");
        let k = Array::from_slice(&[1i32, 2], &[2]);
        let y = mithril::compile::<Indices>(&backend)
            .evaluate(&IndicesParams {}, &IndicesInputs { k })
            .unwrap()
            .y;
        assert_eq!(y.dtype(), dtype.mlx(), "{dtype:?}");
        assert_eq!(values(&y), [2.0, 3.0]);
    }
    // In float64 (the CPU's), 0.1 is float64's 0.1.
    let x = Array::from_slice_f64(&[1.0, 2.0, 3.0], &[1, 3]);
    let y = Scaled::forward(&ScaledParams {}, &ScaledInputs { x })
        .unwrap()
        .y;
    assert_eq!(y.dtype(), Dtype::Float64);
    assert_eq!(y.as_slice::<f64>(), [1.0 + 0.1, 1.0 + 0.2, 1.0 + 3.0 * 0.1]);
}

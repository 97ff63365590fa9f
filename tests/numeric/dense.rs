//! Dense layers (`mithril-core/src/layers/dense.rs`): `Linear` and
//! `Embedding`. `Embedding`'s int32 indices have no gradient in the
//! fixture; Mithril's must be all zeros.

use crate::harness::{
    Case, F64, cases, check_fixture, forward, layer_model, pseudo_random, run_tables,
};
use crate::suites::{CORE, TYPED};
use mithril::MlxBackend;
use mithril::mlx_rs::{Array, Dtype};

// The fixture cases: the layer calls of the indexes, the fixtures' input shapes.
layer_model!(LinearCase, x: [B, 5], Linear(4));
layer_model!(LinearNobiasCase, x: [B, 5], Linear(4, bias = false));
layer_model!(Linear3dCase, x: [B, 3, 5], Linear(6));
layer_model!(ReferenceCase, x: [N, 1], Linear(1));
layer_model!(EmbeddingCase, x: [B, T], Embedding(10, 4));

/// Fixture cases of `cases.json`.
pub const CORE_FIXTURES: &[Case] = cases! { check_fixture:
    "linear" => LinearCase: F64,
    "linear_nobias" => LinearNobiasCase: F64,
    "linear_3d" => Linear3dCase: F64,
    "mithril_linear_reference" => ReferenceCase: F64,
};

/// Fixture cases of `cases_sequence_blocks.json`.
pub const TYPED_FIXTURES: &[Case] = cases! { check_fixture:
    "embedding" => EmbeddingCase: F64,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[
        ("Dense layers, fixture cases", &CORE, CORE_FIXTURES),
        ("Dense layers, fixture cases", &TYPED, TYPED_FIXTURES),
    ]);
}

/// Float indices are an error naming the layer and the dtype, in both
/// modes, not a panic (tests/errors.rs checks the error's variant).
#[test]
fn embedding_refuses_float_indices() {
    let weights = vec![pseudo_random(1, &[10, 4]).as_dtype(Dtype::Float32).unwrap()];
    let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3]);
    for graph_mode in [true, false] {
        let err =
            forward::<EmbeddingCase>(graph_mode, &weights, std::slice::from_ref(&x)).unwrap_err();
        assert!(
            err.contains("integer indices")
                && err.contains("Embedding(10, 4)")
                && err.contains("Float32"),
            "graph mode {graph_mode}: {err}"
        );
    }
    // Integer indices of any width work.
    let ids = Array::from_slice(&[1i64, 9, 1], &[1, 3]);
    let y = forward::<EmbeddingCase>(false, &weights, &[ids]).unwrap();
    assert_eq!(y.shape(), &[1, 3, 4]);
}

mithril::model! {
    InitCheck {
        input ids: [B, T];
        ids -> emb: Embedding(1000, 16) -> conv: Conv1d(8, 3) -> ln: LayerNorm
            -> rms: RmsNorm -> gn: GroupNorm(4) => y;
        output y;
    }
}

/// Parameter names, shapes and initialisation are mlx.nn's, for `Embedding`
/// and the layers that follow it in sequence models (`Conv1d` and the norms).
#[test]
fn parameters_follow_mlx_nn() {
    use mithril::runtime::Init;
    let graph = mithril::runtime::graph_of::<InitCheck>();
    let specs: Vec<(&str, &[usize], Init)> = graph
        .weights
        .iter()
        .map(|w| (w.path.as_str(), &w.shape[..], w.init))
        .collect();
    let bound = (1.0f64 / 48.0).sqrt();
    assert_eq!(
        specs,
        [
            ("emb.weight", &[1000, 16][..], Init::Normal { std: 0.25 }),
            ("conv.weight", &[8, 3, 16][..], Init::Uniform { bound }),
            ("conv.bias", &[8][..], Init::Zeros),
            ("ln.weight", &[8][..], Init::Ones),
            ("ln.bias", &[8][..], Init::Zeros),
            ("rms.weight", &[8][..], Init::Ones),
            ("gn.weight", &[8][..], Init::Ones),
            ("gn.bias", &[8][..], Init::Zeros),
        ]
    );
    // Conv1d's window rule on the symbolic length, unsimplified: T - 2.
    assert_eq!(graph.outputs[0].shape.to_string(), "[B, T - 2, 8]");

    // The embedding table is drawn from N(0, 1/dims).
    let backend = MlxBackend::builder().seed(3).build().unwrap();
    let params = InitCheck::init(&backend).unwrap();
    let table: Vec<f32> = params.emb.weight.to_vec_exact().unwrap();
    let n = table.len() as f64;
    let mean = table.iter().map(|&v| v as f64).sum::<f64>() / n;
    let std = (table
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    assert!(
        mean.abs() < 0.01 && (std - 0.25).abs() < 0.01,
        "mean {mean}, std {std}"
    );
}

//! Recurrent layers (`mithril-core/src/layers/recurrent.rs`): `Lstm` and
//! `Gru`, on symbolic sequence lengths; the variants add seven steps and
//! one step.

use crate::harness::{
    Case, F64_EXP_FIVE_POINT, cases, check_fd_only, check_fixture, layer_model, run_tables,
    weight_shapes,
};
use crate::suites::SEQUENCE;
use mithril::MlxBackend;
use mithril::mlx_rs::Array;

// The fixture cases: the layer calls of cases_sequence.json.
layer_model!(LstmCase, x: [B, T, 3], Lstm(5));
layer_model!(LstmNobiasCase, x: [B, T, 2], Lstm(4, bias = false));
layer_model!(GruCase, x: [B, T, 3], Gru(5));
layer_model!(GruNobiasCase, x: [B, T, 2], Gru(4, bias = false));

// Variants without fixtures, checked against finite differences only.
layer_model!(LstmLongCase, x: [2, 7, 2], Lstm(3));
layer_model!(LstmOneStepCase, x: [3, 1, 2], Lstm(2));
layer_model!(GruLongCase, x: [2, 7, 2], Gru(3));
layer_model!(GruOneStepCase, x: [3, 1, 2], Gru(2));

/// Fixture cases of `cases_sequence.json`.
pub const SEQUENCE_FIXTURES: &[Case] = cases! { check_fixture:
    "lstm" => LstmCase: F64_EXP_FIVE_POINT,
    "lstm_nobias" => LstmNobiasCase: F64_EXP_FIVE_POINT,
    "gru" => GruCase: F64_EXP_FIVE_POINT,
    "gru_nobias" => GruNobiasCase: F64_EXP_FIVE_POINT,
};

/// Variants under the suite of `cases_sequence.json`.
const SEQUENCE_VARIANTS: &[Case] = cases! { check_fd_only:
    "lstm_seven_steps" => LstmLongCase: F64_EXP_FIVE_POINT,
    "lstm_one_step" => LstmOneStepCase: F64_EXP_FIVE_POINT,
    "gru_seven_steps" => GruLongCase: F64_EXP_FIVE_POINT,
    "gru_one_step" => GruOneStepCase: F64_EXP_FIVE_POINT,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[(
        "Recurrent layers, fixture cases",
        &SEQUENCE,
        SEQUENCE_FIXTURES,
    )]);
}

#[test]
fn variants_match_finite_differences() {
    run_tables(&[(
        "Recurrent layers, variants without fixtures: VJP vs finite differences",
        &SEQUENCE,
        SEQUENCE_VARIANTS,
    )]);
}

/// Symbolic sequence lengths flow through the rules; parameter names and
/// layouts are mlx.nn's, and the typed fields are their lowercase forms.
#[test]
fn shapes_and_parameter_names() {
    assert_eq!(LstmCase::OUTPUT_SHAPES, &[("y", "[B, T, 5]")]);
    assert_eq!(GruCase::OUTPUT_SHAPES, &[("y", "[B, T, 5]")]);
    let p = |s: &str, shape: &[usize]| (s.to_string(), shape.to_vec());
    assert_eq!(
        weight_shapes::<LstmCase>(),
        [
            p("layer.Wx", &[20, 3]),
            p("layer.Wh", &[20, 5]),
            p("layer.bias", &[20])
        ]
    );
    assert_eq!(
        weight_shapes::<GruCase>(),
        [
            p("layer.Wx", &[15, 3]),
            p("layer.Wh", &[15, 5]),
            p("layer.b", &[15]),
            p("layer.bhn", &[5])
        ]
    );
    // Typed fields.
    let _: fn(&LstmCaseParams) -> [&Array; 3] = |p| [&p.layer.wx, &p.layer.wh, &p.layer.bias];
    let _: fn(&GruCaseParams) -> [&Array; 4] =
        |p| [&p.layer.wx, &p.layer.wh, &p.layer.b, &p.layer.bhn];
}

/// mlx.nn's initialisation: ±1/sqrt(hidden) for every LSTM parameter.
#[test]
fn initialisation_bounds_are_mlx_nn_s() {
    let backend = MlxBackend::builder().seed(3).build().unwrap();
    let max_abs = |a: &Array| a.abs().unwrap().max(None).unwrap().item_exact::<f32>();
    let lstm = LstmCase::init(&backend).unwrap();
    for w in [&lstm.layer.wx, &lstm.layer.wh, &lstm.layer.bias] {
        let m = max_abs(w);
        assert!(m <= 1.0 / 5f32.sqrt() && m > 0.2, "{m}");
    }
}

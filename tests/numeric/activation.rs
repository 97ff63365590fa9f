//! Activations (`mithril-core/src/layers/activation.rs`): `Relu`,
//! `LeakyRelu`, `Gelu`, `GeluApprox`, `GeluFast`, `Sigmoid`, `Tanh`,
//! `Softplus`, `Silu`, `Softmax` and `LogSoftmax`.

use crate::harness::{
    Case, F64, F64_EXP, cases, check_fd_only, check_fixture, layer_model, run_tables,
};
use crate::suites::{CORE, TYPED};

// The fixture cases: the layer calls of the indexes, the fixtures' input shapes.
layer_model!(ReluCase, x: [3, 7], Relu);
layer_model!(LeakyReluCase, x: [3, 7], LeakyRelu(0.1));
layer_model!(GeluCase, x: [3, 7], Gelu);
layer_model!(SigmoidCase, x: [3, 7], Sigmoid);
layer_model!(TanhCase, x: [3, 7], Tanh);
layer_model!(SoftmaxCase, x: [3, 7], Softmax);
layer_model!(SoftmaxAxis0Case, x: [3, 7], Softmax(axis = 0));
layer_model!(LogSoftmaxCase, x: [3, 7], LogSoftmax);
layer_model!(SoftplusCase, x: [3, 7], Softplus);
layer_model!(SiluCase, x: [3, 7], Silu);
layer_model!(GeluApproxCase, x: [3, 7], GeluApprox);
layer_model!(GeluFastCase, x: [3, 7], GeluFast);

// Variants without fixtures, checked against finite differences only.
layer_model!(LogSoftmaxAxis0Case, x: [4, 3], LogSoftmax(axis = 0));

/// Fixture cases of `cases.json`.
pub const CORE_FIXTURES: &[Case] = cases! { check_fixture:
    "relu" => ReluCase: F64,
    "leaky_relu" => LeakyReluCase: F64,
    "gelu" => GeluCase: F64_EXP,
    "sigmoid" => SigmoidCase: F64_EXP,
    "tanh" => TanhCase: F64,
    "softmax" => SoftmaxCase: F64_EXP,
    "softmax_axis0" => SoftmaxAxis0Case: F64_EXP,
    "log_softmax" => LogSoftmaxCase: F64_EXP,
};

/// Fixture cases of `cases_sequence_blocks.json`.
pub const TYPED_FIXTURES: &[Case] = cases! { check_fixture:
    "softplus" => SoftplusCase: F64_EXP,
    "silu" => SiluCase: F64_EXP,
    "gelu_approx" => GeluApproxCase: F64_EXP,
    "gelu_fast" => GeluFastCase: F64_EXP,
};

/// Variants under the suite of `cases.json`.
const CORE_VARIANTS: &[Case] = cases! { check_fd_only:
    "log_softmax_axis0" => LogSoftmaxAxis0Case: F64_EXP,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[
        ("Activations, fixture cases", &CORE, CORE_FIXTURES),
        ("Activations, fixture cases", &TYPED, TYPED_FIXTURES),
    ]);
}

#[test]
fn variants_match_finite_differences() {
    run_tables(&[(
        "Activations, variants without fixtures: VJP vs finite differences",
        &CORE,
        CORE_VARIANTS,
    )]);
}

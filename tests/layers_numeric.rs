//! Numeric checks of every layer of the catalogue.
//!
//! 1. Against Python MLX: each case of `tests/fixtures/layers/` (made with
//!    MLX 0.32.2 by `scripts/fixtures/make_layer_fixtures.py`, format in
//!    `scripts/fixtures/README.md`) runs as a one-layer model through
//!    `evaluate_with_gradients` with the fixture's parameters, inputs and
//!    cotangent, compiled and eager. Output, input gradients and parameter
//!    gradients must match the fixture, and the two modes each other.
//! 2. Against central finite differences: the vector-Jacobian product of every
//!    layer kind (on the fixture data, and on variants the fixtures lack:
//!    strided, dilated and padded convolutions and pools, broadcasting, a
//!    three-way concat, `Lambda` custom ops) is compared with finite
//!    differences of L = sum(output * cotangent) with respect to every element
//!    of every input and parameter. In float64 where MLX can (all but
//!    `Conv2d`); see [`F64`], [`F64_EXP`] and [`F32_AFFINE`] for the steps and
//!    tolerances and why they differ.
//!
//! `cargo test --test layers_numeric -- --nocapture` prints the table of the
//! largest errors (and the share of the tolerance they use).

mod common;

use common::numeric::{
    Case, Dtypes, F32_AFFINE, F64, F64_EXP, FIXTURE_TOL, MODES_TOL, Suite, cases, check_fd_only,
    check_fixture, check_index, layer_model, run_table,
};
use mithril::mlx_rs::error::Exception;
use mithril::mlx_rs::{Array, ops};

/// Fixture cases that fail because of a known bug: each must still fail with
/// an error containing the given text (the table says so); once it passes,
/// the test fails until the entry is removed.
const KNOWN_BUGS: &[(&str, &str)] = &[];

/// The harness's settings for this file (fixture comparisons on the GPU:
/// `common::numeric::GPU_TOL`).
const SUITE: Suite = Suite {
    fixture_tol: FIXTURE_TOL,
    modes_tol: MODES_TOL,
    dtypes: Dtypes::Kept,
    known_bugs: KNOWN_BUGS,
    columns: (32, 72),
};

// ---------------------------------------------------------------------------
// The models: one layer named `layer`, output `y` (`common::numeric::layer_model!`).

// The fixture cases: the layer calls of cases.json, the fixtures' input shapes.
layer_model!(LinearCase, x: [B, 5], Linear(4));
layer_model!(LinearNobiasCase, x: [B, 5], Linear(4, bias = false));
layer_model!(Linear3dCase, x: [B, 3, 5], Linear(6));
layer_model!(Conv2dSameCase, x: [B, 6, 6, 3], Conv2d(filters = 4, kernel = 3, padding = same));
layer_model!(Conv2dValidStride2Case, x: [B, 7, 7, 3],
    Conv2d(filters = 4, kernel = 3, stride = 2, padding = valid));
layer_model!(Conv2dPad1Dilation2Case, x: [B, 8, 8, 2],
    Conv2d(filters = 2, kernel = 3, padding = 1, dilation = 2));
layer_model!(Conv2dNobiasKernelPairCase, x: [B, 5, 6, 2],
    Conv2d(filters = 3, kernel = (2, 3), bias = false));
layer_model!(MaxPool2dCase, x: [B, 6, 6, 3], MaxPool2d(2));
layer_model!(MaxPool2dK3S2Case, x: [B, 7, 7, 2], MaxPool2d(kernel = 3, stride = 2));
layer_model!(AvgPool2dCase, x: [B, 6, 6, 3], AvgPool2d(2));
layer_model!(AvgPool2dK3S1Case, x: [B, 5, 5, 2], AvgPool2d(kernel = 3, stride = 1));
layer_model!(FlattenCase, x: [B, 3, 4, 5], Flatten);
layer_model!(ReshapeCase, x: [B, 60], Reshape([B, 6, 10]));
layer_model!(ReluCase, x: [3, 7], Relu);
layer_model!(LeakyReluCase, x: [3, 7], LeakyRelu(0.1));
layer_model!(GeluCase, x: [3, 7], Gelu);
layer_model!(SigmoidCase, x: [3, 7], Sigmoid);
layer_model!(TanhCase, x: [3, 7], Tanh);
layer_model!(SoftmaxCase, x: [3, 7], Softmax);
layer_model!(SoftmaxAxis0Case, x: [3, 7], Softmax(axis = 0));
layer_model!(LogSoftmaxCase, x: [3, 7], LogSoftmax);
layer_model!(AddCase, a: [3, 4], b: [3, 4], Add);
layer_model!(SubtractCase, a: [3, 4], b: [3, 4], Subtract);
layer_model!(MultiplyCase, a: [3, 4], b: [3, 4], Multiply);
layer_model!(MatMulCase, a: [2, 3, 4], b: [2, 4, 5], MatMul);
layer_model!(ConcatCase, a: [2, 3], b: [2, 5], Concat(axis = -1));
layer_model!(ConcatAxis1Case, a: [2, 3, 4], b: [2, 2, 4], Concat(axis = 1));
layer_model!(ReferenceCase, x: [N, 1], Linear(1));

// The `reshape` fixture without the symbol in the target (see `KNOWN_BUGS`).
layer_model!(ReshapeLiteralCase, x: [2, 60], Reshape([2, 6, 10]));

// Variants without fixtures, checked against finite differences only.
layer_model!(Conv2dPairsCase, x: [1, 6, 7, 2],
    Conv2d(filters = 2, kernel = (3, 2), stride = (2, 1), padding = (1, 2), dilation = (1, 2)));
layer_model!(Conv2dSameDilatedCase, x: [1, 5, 5, 2],
    Conv2d(filters = 2, kernel = 3, padding = same, dilation = 2));
layer_model!(MaxPool2dPaddedCase, x: [1, 5, 5, 2], MaxPool2d(kernel = 3, stride = 2, padding = 1));
layer_model!(AvgPool2dPairsCase, x: [1, 4, 6, 2],
    AvgPool2d(kernel = (2, 3), stride = (1, 2), padding = (1, 1)));
layer_model!(FlattenMiddleCase, x: [2, 3, 4, 2], Flatten(start = 1, end = 2));
layer_model!(ReshapeWildcardCase, x: [2, 12], Reshape([2, -1, 3]));
layer_model!(LogSoftmaxAxis0Case, x: [4, 3], LogSoftmax(axis = 0));
layer_model!(AddBroadcastCase, a: [3, 4], b: [4], Add);
layer_model!(SubtractBroadcastCase, a: [3, 1], b: [3, 4], Subtract);
layer_model!(MultiplyBroadcastCase, a: [2, 1, 4], b: [3, 1], Multiply);
layer_model!(MatMulBroadcastCase, a: [3, 4], b: [2, 4, 5], MatMul);
layer_model!(SwishCase, x: [3, 5], Lambda(swish));
layer_model!(SquareSumsCase, x: [3, 5], Lambda(square_sums, shape = [3, 1]));

mithril::model! {
    Concat3Case {
        input a: [1, 3];
        input b: [2, 3];
        input c: [3, 3];
        layer: Concat(axis = 0)(a, b, c) => y;
        output y;
    }
}

/// swish(x) = x * sigmoid(x): a custom op written with mlx-rs ops.
fn swish(x: &Array) -> Result<Array, Exception> {
    x.multiply(ops::sigmoid(x)?)
}

/// The sum of squares over the last axis, kept: a custom op with a declared shape.
fn square_sums(x: &Array) -> Result<Array, Exception> {
    x.square()?.sum_axis(-1, true)
}

// ---------------------------------------------------------------------------
// The tables

const FIXTURE_CASES: &[Case] = cases! { check_fixture:
    "linear" => LinearCase: F64,
    "linear_nobias" => LinearNobiasCase: F64,
    "linear_3d" => Linear3dCase: F64,
    "conv2d_same" => Conv2dSameCase: F32_AFFINE,
    "conv2d_valid_stride2" => Conv2dValidStride2Case: F32_AFFINE,
    "conv2d_pad1_dilation2" => Conv2dPad1Dilation2Case: F32_AFFINE,
    "conv2d_nobias_kernel_pair" => Conv2dNobiasKernelPairCase: F32_AFFINE,
    "maxpool2d" => MaxPool2dCase: F64,
    "maxpool2d_k3_s2" => MaxPool2dK3S2Case: F64,
    "avgpool2d" => AvgPool2dCase: F64,
    "avgpool2d_k3_s1" => AvgPool2dK3S1Case: F64,
    "flatten" => FlattenCase: F64,
    "reshape" => ReshapeCase: F64,
    "relu" => ReluCase: F64,
    "leaky_relu" => LeakyReluCase: F64,
    "gelu" => GeluCase: F64_EXP,
    "sigmoid" => SigmoidCase: F64_EXP,
    "tanh" => TanhCase: F64,
    "softmax" => SoftmaxCase: F64_EXP,
    "softmax_axis0" => SoftmaxAxis0Case: F64_EXP,
    "log_softmax" => LogSoftmaxCase: F64_EXP,
    "add" => AddCase: F64,
    "subtract" => SubtractCase: F64,
    "multiply" => MultiplyCase: F64,
    "matmul" => MatMulCase: F64,
    "concat" => ConcatCase: F64,
    "concat_axis1" => ConcatAxis1Case: F64,
    "mithril_linear_reference" => ReferenceCase: F64,
};

const FD_ONLY_CASES: &[Case] = cases! { check_fd_only:
    "conv2d_pairs_stride_pad_dilation" => Conv2dPairsCase: F32_AFFINE,
    "conv2d_same_dilation2" => Conv2dSameDilatedCase: F32_AFFINE,
    "maxpool2d_padded" => MaxPool2dPaddedCase: F64,
    "avgpool2d_padded_pairs" => AvgPool2dPairsCase: F64,
    "flatten_middle_axes" => FlattenMiddleCase: F64,
    "reshape_wildcard" => ReshapeWildcardCase: F64,
    "log_softmax_axis0" => LogSoftmaxAxis0Case: F64_EXP,
    "add_broadcast" => AddBroadcastCase: F64,
    "subtract_broadcast" => SubtractBroadcastCase: F64,
    "multiply_broadcast" => MultiplyBroadcastCase: F64,
    "matmul_broadcast" => MatMulBroadcastCase: F64,
    "concat_three" => Concat3Case: F64,
    "lambda_swish" => SwishCase: F64_EXP,
    "lambda_declared_shape" => SquareSumsCase: F64,
};

// ---------------------------------------------------------------------------
// Tests

/// The fixture cases are exactly those of `cases.json`, with the same layer calls.
#[test]
fn fixture_cases_are_those_of_the_index() {
    check_index("cases.json", 28, FIXTURE_CASES);
}

#[test]
fn layers_match_python_mlx_and_finite_differences() {
    run_table(
        &SUITE,
        "Fixture cases: max |diff| (share of tolerance); vs MLX and compiled/eager in f32",
        FIXTURE_CASES,
    );
}

#[test]
fn layer_variants_match_finite_differences() {
    run_table(
        &SUITE,
        "Variants without fixtures: VJP vs finite differences",
        FD_ONLY_CASES,
    );
}

/// The `reshape` fixture passes once the batch is literal (see [`KNOWN_BUGS`]).
#[test]
fn reshape_fixture_with_literal_batch() {
    let errors = check_fixture::<ReshapeLiteralCase>(&SUITE, "reshape", F64).unwrap();
    println!(
        "reshape, Reshape([2, 6, 10]): vs MLX {}, compiled/eager {}, VJP vs FD {}",
        errors.fixture.unwrap_or_default(),
        errors.modes.unwrap_or_default(),
        errors.fd.unwrap_or_default()
    );
}

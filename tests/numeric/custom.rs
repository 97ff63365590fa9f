//! Custom ops (`mithril-core/src/layers/custom.rs`): `Lambda`, with the
//! input's shape and with a declared one. They have no fixtures: finite
//! differences only.

use crate::harness::{Case, F64, F64_EXP, cases, check_fd_only, layer_model, run_tables};
use crate::suites::CORE;
use mithril::mlx_rs::error::Exception;
use mithril::mlx_rs::{Array, ops};

layer_model!(SwishCase, x: [3, 5], Lambda(swish));
layer_model!(SquareSumsCase, x: [3, 5], Lambda(square_sums, shape = [3, 1]));

/// swish(x) = x * sigmoid(x): a custom op written with mlx-rs ops.
fn swish(x: &Array) -> Result<Array, Exception> {
    x.multiply(ops::sigmoid(x)?)
}

/// The sum of squares over the last axis, kept: a custom op with a declared shape.
fn square_sums(x: &Array) -> Result<Array, Exception> {
    x.square()?.sum_axis(-1, true)
}

/// Variants under the suite of `cases.json`.
const CORE_VARIANTS: &[Case] = cases! { check_fd_only:
    "lambda_swish" => SwishCase: F64_EXP,
    "lambda_declared_shape" => SquareSumsCase: F64,
};

#[test]
fn variants_match_finite_differences() {
    run_tables(&[(
        "Custom ops, variants without fixtures: VJP vs finite differences",
        &CORE,
        CORE_VARIANTS,
    )]);
}

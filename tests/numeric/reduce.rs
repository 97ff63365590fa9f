//! Reductions (`mithril-core/src/layers/reduce.rs`): `Mean`, `Sum`, `Max`,
//! `Min`, `Prod`, `LogSumExp`, `Var` and `Std` (`ArgMax`, whose output has no
//! gradient, is checked with the comparisons in `select`).

use crate::harness::{
    Case, F64, F64_EXP_FIVE_POINT, cases, check_fd_only, check_fixture, layer_model, run_tables,
};
use crate::suites::{MATH, TYPED};

// The fixture cases: the layer calls of the indexes, the fixtures' input shapes.
layer_model!(MeanCase, x: [B, 3, 4], Mean(axes = 1));
layer_model!(MeanAllCase, x: [3, 4], Mean);
layer_model!(SumKeepdimsCase, x: [2, 3, 4], Sum(axes = [0, 2], keepdims = true));
layer_model!(MaxCase, x: [B, 5], Max(axes = -1));
layer_model!(MinCase, x: [B, 3, 4], Min(axes = 1));
layer_model!(ProdCase, x: [B, 4], Prod(axes = -1, keepdims = true));
layer_model!(LogSumExpCase, x: [B, 3, 4], LogSumExp(axes = [0, 2]));
layer_model!(VarCase, x: [B, 3], Var(axes = 0, ddof = 1));
layer_model!(StdCase, x: [B, 5], Std(axes = 1, keepdims = true));
layer_model!(VarAllCase, x: [B, 4], Var);

// Variants without fixtures, checked against finite differences only.
layer_model!(MeanKeepdimsCase, x: [2, 3], Mean(keepdims = true));
layer_model!(SumAllCase, x: [2, 3], Sum);
layer_model!(MaxPairCase, x: [2, 3, 4], Max(axes = [0, 2]));

/// Fixture cases of `cases_sequence_blocks.json`.
pub const TYPED_FIXTURES: &[Case] = cases! { check_fixture:
    "mean" => MeanCase: F64,
    "mean_all" => MeanAllCase: F64,
    "sum_keepdims" => SumKeepdimsCase: F64,
    "max" => MaxCase: F64,
};

/// Fixture cases of `cases_math.json`.
pub const MATH_FIXTURES: &[Case] = cases! { check_fixture:
    "min" => MinCase: F64,
    "prod" => ProdCase: F64,
    "logsumexp" => LogSumExpCase: F64_EXP_FIVE_POINT,
    "var_ddof1" => VarCase: F64,
    "std_keepdims" => StdCase: F64,
    "var_all" => VarAllCase: F64,
};

/// Variants under the suite of `cases_sequence_blocks.json`.
const TYPED_VARIANTS: &[Case] = cases! { check_fd_only:
    "mean_keepdims_all" => MeanKeepdimsCase: F64,
    "sum_all" => SumAllCase: F64,
    "max_two_axes" => MaxPairCase: F64,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[
        ("Reductions, fixture cases", &TYPED, TYPED_FIXTURES),
        ("Reductions, fixture cases", &MATH, MATH_FIXTURES),
    ]);
}

#[test]
fn variants_match_finite_differences() {
    run_tables(&[(
        "Reductions, variants without fixtures: VJP vs finite differences",
        &TYPED,
        TYPED_VARIANTS,
    )]);
}

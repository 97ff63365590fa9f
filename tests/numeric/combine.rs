//! Layers of several inputs (`mithril-core/src/layers/combine.rs`): `Add`,
//! `Subtract`, `Multiply`, `Divide`, `Power`, `Maximum`, `Minimum`, `MatMul`
//! and `Concat`; the variants broadcast and concatenate three inputs.

use crate::harness::{Case, F64, cases, check_fd_only, check_fixture, layer_model, run_tables};
use crate::suites::{CORE, MATH};

// The fixture cases: the layer calls of the indexes, the fixtures' input
// shapes (batch sizes symbolic in cases_math.json's).
layer_model!(AddCase, a: [3, 4], b: [3, 4], Add);
layer_model!(SubtractCase, a: [3, 4], b: [3, 4], Subtract);
layer_model!(MultiplyCase, a: [3, 4], b: [3, 4], Multiply);
layer_model!(MatMulCase, a: [2, 3, 4], b: [2, 4, 5], MatMul);
layer_model!(ConcatCase, a: [2, 3], b: [2, 5], Concat(axis = -1));
layer_model!(ConcatAxis1Case, a: [2, 3, 4], b: [2, 2, 4], Concat(axis = 1));
layer_model!(DivideCase, a: [B, 4], b: [1, 4], Divide);
layer_model!(PowerCase, a: [B, 4], b: [B, 4], Power);
layer_model!(MaximumCase, a: [2, B, 4], b: [B, 4], Maximum);
layer_model!(MinimumCase, a: [B, 4], b: [B, 1], Minimum);

// Variants without fixtures, checked against finite differences only.
layer_model!(AddBroadcastCase, a: [3, 4], b: [4], Add);
layer_model!(SubtractBroadcastCase, a: [3, 1], b: [3, 4], Subtract);
layer_model!(MultiplyBroadcastCase, a: [2, 1, 4], b: [3, 1], Multiply);
layer_model!(MatMulBroadcastCase, a: [3, 4], b: [2, 4, 5], MatMul);

mithril::model! {
    Concat3Case {
        input a: [1, 3];
        input b: [2, 3];
        input c: [3, 3];
        layer: Concat(axis = 0)(a, b, c) => y;
        output y;
    }
}

/// Fixture cases of `cases.json`.
pub const CORE_FIXTURES: &[Case] = cases! { check_fixture:
    "add" => AddCase: F64,
    "subtract" => SubtractCase: F64,
    "multiply" => MultiplyCase: F64,
    "matmul" => MatMulCase: F64,
    "concat" => ConcatCase: F64,
    "concat_axis1" => ConcatAxis1Case: F64,
};

/// Fixture cases of `cases_math.json`.
pub const MATH_FIXTURES: &[Case] = cases! { check_fixture:
    "divide" => DivideCase: F64,
    "power" => PowerCase: F64,
    "maximum" => MaximumCase: F64,
    "minimum" => MinimumCase: F64,
};

/// Variants under the suite of `cases.json`.
const CORE_VARIANTS: &[Case] = cases! { check_fd_only:
    "add_broadcast" => AddBroadcastCase: F64,
    "subtract_broadcast" => SubtractBroadcastCase: F64,
    "multiply_broadcast" => MultiplyBroadcastCase: F64,
    "matmul_broadcast" => MatMulBroadcastCase: F64,
    "concat_three" => Concat3Case: F64,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[
        ("Combining layers, fixture cases", &CORE, CORE_FIXTURES),
        ("Combining layers, fixture cases", &MATH, MATH_FIXTURES),
    ]);
}

#[test]
fn variants_match_finite_differences() {
    run_tables(&[(
        "Combining layers, variants without fixtures: VJP vs finite differences",
        &CORE,
        CORE_VARIANTS,
    )]);
}

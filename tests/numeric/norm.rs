//! Normalisation (`mithril-core/src/layers/norm.rs`): `LayerNorm`, `RmsNorm`
//! and `GroupNorm`.

use crate::harness::{
    Case, F64, Fd, Stencil, Tol, cases, check_fd_only, check_fixture, layer_model, run_tables,
};
use crate::suites::TYPED;
use mithril::mlx_rs::Dtype;

/// Finite differences in float64 for `mx.fast.layer_norm` and
/// `mx.fast.rms_norm` (`LayerNorm`, `RmsNorm`, `GroupNorm` with
/// `pytorch_compatible`): on the CPU both fall back to ops computed in
/// float32 whatever the input type, so the loss carries float32 rounding
/// noise (up to a few 1e-6 absolute on these cases) that a step of 1e-2
/// turns into up to a few 1e-4 where gradients are large (no affine scale);
/// truncation (step^2 / 6 times a third derivative of order 1 / std(x)^3)
/// stays below that for inputs of unit scale.
const F64_FAST_NORM: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1e-2,
    tol: Tol {
        atol: 2e-4,
        rtol: 2e-4,
    },
    quantise: false,
    stencil: Stencil::ThreePoint,
};

/// As [`F64_FAST_NORM`] for inputs of scale 0.1 (`layer_norm_nobias_eps`),
/// whose curvature is 1000 times larger: a 10 times smaller step and a
/// looser tolerance for the larger rounding term.
const F64_FAST_NORM_SMALL: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1e-3,
    tol: Tol {
        atol: 4e-4,
        rtol: 4e-4,
    },
    quantise: false,
    stencil: Stencil::ThreePoint,
};

// The fixture cases: the layer calls of cases_sequence_blocks.json, the fixtures' input shapes.
layer_model!(LayerNormCase, x: [B, 3, 6], LayerNorm);
layer_model!(LayerNormNoAffineCase, x: [B, 5], LayerNorm(affine = false));
layer_model!(LayerNormNoBiasCase, x: [B, 5], LayerNorm(eps = 0.001, bias = false));
layer_model!(RmsNormCase, x: [B, 3, 6], RmsNorm);
layer_model!(GroupNormCase, x: [B, 4, 6], GroupNorm(3));
layer_model!(GroupNormPytorchCase, x: [B, 3, 3, 4],
    GroupNorm(groups = 2, pytorch_compatible = true));
layer_model!(GroupNormRank2Case, x: [B, 8], GroupNorm(groups = 2, affine = false));

// Variants without fixtures, checked against finite differences only.
layer_model!(LayerNormRank1Case, x: [6], LayerNorm(eps = 0.01));
layer_model!(RmsNormEpsCase, x: [3, 4], RmsNorm(eps = 0.01));
layer_model!(GroupNorm4dCase, x: [2, 2, 3, 8], GroupNorm(groups = 4, eps = 0.001));
layer_model!(GroupNormPytorchPlainCase, x: [2, 4, 6],
    GroupNorm(groups = 3, affine = false, pytorch_compatible = true));

/// Fixture cases of `cases_sequence_blocks.json`.
pub const TYPED_FIXTURES: &[Case] = cases! { check_fixture:
    "layer_norm" => LayerNormCase: F64_FAST_NORM,
    "layer_norm_noaffine" => LayerNormNoAffineCase: F64_FAST_NORM,
    "layer_norm_nobias_eps" => LayerNormNoBiasCase: F64_FAST_NORM_SMALL,
    "rms_norm" => RmsNormCase: F64_FAST_NORM,
    "group_norm" => GroupNormCase: F64,
    "group_norm_pytorch" => GroupNormPytorchCase: F64_FAST_NORM,
    "group_norm_noaffine_rank2" => GroupNormRank2Case: F64,
};

/// Variants under the suite of `cases_sequence_blocks.json`.
const TYPED_VARIANTS: &[Case] = cases! { check_fd_only:
    "layer_norm_rank1" => LayerNormRank1Case: F64_FAST_NORM,
    "rms_norm_eps" => RmsNormEpsCase: F64_FAST_NORM,
    "group_norm_4d" => GroupNorm4dCase: F64,
    "group_norm_pytorch_noaffine" => GroupNormPytorchPlainCase: F64_FAST_NORM,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[("Norms, fixture cases", &TYPED, TYPED_FIXTURES)]);
}

#[test]
fn variants_match_finite_differences() {
    run_tables(&[(
        "Norms, variants without fixtures: VJP vs finite differences",
        &TYPED,
        TYPED_VARIANTS,
    )]);
}

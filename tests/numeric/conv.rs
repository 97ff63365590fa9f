//! Convolutions (`mithril-core/src/layers/conv.rs`): `Conv1d` and `Conv2d`,
//! with strides, dilations, `same` padding, kernel pairs and asymmetric
//! padding. Finite differences in float32 ([`F32_AFFINE`]): MLX's CPU
//! convolution has no float64 kernel.

use crate::harness::{
    Case, F32_AFFINE, cases, check_fd_only, check_fixture, layer_model, run_tables,
};
use crate::suites::{CORE, MATH, TYPED};

// The fixture cases: the layer calls of the indexes, the fixtures' input shapes.
layer_model!(Conv2dSameCase, x: [B, 6, 6, 3], Conv2d(filters = 4, kernel = 3, padding = same));
layer_model!(Conv2dValidStride2Case, x: [B, 7, 7, 3],
    Conv2d(filters = 4, kernel = 3, stride = 2, padding = valid));
layer_model!(Conv2dPad1Dilation2Case, x: [B, 8, 8, 2],
    Conv2d(filters = 2, kernel = 3, padding = 1, dilation = 2));
layer_model!(Conv2dNobiasKernelPairCase, x: [B, 5, 6, 2],
    Conv2d(filters = 3, kernel = (2, 3), bias = false));
layer_model!(Conv1dCase, x: [B, 9, 3], Conv1d(filters = 4, kernel = 3));
layer_model!(Conv1dSameCase, x: [B, 8, 2],
    Conv1d(filters = 3, kernel = 3, padding = same, dilation = 2));
layer_model!(Conv1dStrideCase, x: [B, 10, 3],
    Conv1d(filters = 2, kernel = 4, stride = 2, padding = 1, bias = false));
layer_model!(Conv1dPadCase, x: [B, L, 3], Conv1d(4, 3, padding = (2, 1)));
layer_model!(Conv2dPadCase, x: [B, H, W, 2],
    Conv2d(3, (3, 2), stride = (2, 1), padding = ((1, 0), (0, 2))));

// Variants without fixtures, checked against finite differences only.
layer_model!(Conv2dPairsCase, x: [1, 6, 7, 2],
    Conv2d(filters = 2, kernel = (3, 2), stride = (2, 1), padding = (1, 2), dilation = (1, 2)));
layer_model!(Conv2dSameDilatedCase, x: [1, 5, 5, 2],
    Conv2d(filters = 2, kernel = 3, padding = same, dilation = 2));
layer_model!(Conv1dDilatedCase, x: [1, 9, 2],
    Conv1d(filters = 2, kernel = 3, stride = 2, padding = 2, dilation = 2));
layer_model!(Conv1dSameK5Case, x: [1, 6, 2], Conv1d(3, 5, padding = same));

/// Fixture cases of `cases.json`.
pub const CORE_FIXTURES: &[Case] = cases! { check_fixture:
    "conv2d_same" => Conv2dSameCase: F32_AFFINE,
    "conv2d_valid_stride2" => Conv2dValidStride2Case: F32_AFFINE,
    "conv2d_pad1_dilation2" => Conv2dPad1Dilation2Case: F32_AFFINE,
    "conv2d_nobias_kernel_pair" => Conv2dNobiasKernelPairCase: F32_AFFINE,
};

/// Fixture cases of `cases_sequence_blocks.json`.
pub const TYPED_FIXTURES: &[Case] = cases! { check_fixture:
    "conv1d" => Conv1dCase: F32_AFFINE,
    "conv1d_same_dilation2" => Conv1dSameCase: F32_AFFINE,
    "conv1d_stride2_pad1_nobias" => Conv1dStrideCase: F32_AFFINE,
};

/// Fixture cases of `cases_math.json`.
pub const MATH_FIXTURES: &[Case] = cases! { check_fixture:
    "conv1d_pad_2_1" => Conv1dPadCase: F32_AFFINE,
    "conv2d_pad_asymmetric" => Conv2dPadCase: F32_AFFINE,
};

/// Variants under the suite of `cases.json`.
const CORE_VARIANTS: &[Case] = cases! { check_fd_only:
    "conv2d_pairs_stride_pad_dilation" => Conv2dPairsCase: F32_AFFINE,
    "conv2d_same_dilation2" => Conv2dSameDilatedCase: F32_AFFINE,
};

/// Variants under the suite of `cases_sequence_blocks.json`.
const TYPED_VARIANTS: &[Case] = cases! { check_fd_only:
    "conv1d_stride2_pad2_dilation2" => Conv1dDilatedCase: F32_AFFINE,
    "conv1d_same_kernel5" => Conv1dSameK5Case: F32_AFFINE,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[
        ("Convolutions, fixture cases", &CORE, CORE_FIXTURES),
        ("Convolutions, fixture cases", &TYPED, TYPED_FIXTURES),
        ("Convolutions, fixture cases", &MATH, MATH_FIXTURES),
    ]);
}

#[test]
fn variants_match_finite_differences() {
    let title = "Convolutions, variants without fixtures: VJP vs finite differences";
    run_tables(&[
        (title, &CORE, CORE_VARIANTS),
        (title, &TYPED, TYPED_VARIANTS),
    ]);
}

//! Pools (`mithril-core/src/layers/pool.rs`): `MaxPool1d`, `AvgPool1d`,
//! `MaxPool2d` and `AvgPool2d`, with strides, symmetric and asymmetric
//! padding, and unbatched inputs.

use crate::harness::{Case, F64, cases, check_fd_only, check_fixture, layer_model, run_tables};
use crate::suites::{CORE, MATH, TYPED};

// The fixture cases: the layer calls of the indexes, the fixtures' input shapes.
layer_model!(MaxPool2dCase, x: [B, 6, 6, 3], MaxPool2d(2));
layer_model!(MaxPool2dK3S2Case, x: [B, 7, 7, 2], MaxPool2d(kernel = 3, stride = 2));
layer_model!(AvgPool2dCase, x: [B, 6, 6, 3], AvgPool2d(2));
layer_model!(AvgPool2dK3S1Case, x: [B, 5, 5, 2], AvgPool2d(kernel = 3, stride = 1));
layer_model!(MaxPool1dCase, x: [B, 8, 3], MaxPool1d(2));
layer_model!(MaxPool1dPaddedCase, x: [B, 9, 2], MaxPool1d(kernel = 3, stride = 2, padding = 1));
layer_model!(AvgPool1dCase, x: [B, 7, 3], AvgPool1d(2));
layer_model!(AvgPool1dPaddedCase, x: [B, 6, 2], AvgPool1d(kernel = 3, stride = 1, padding = 1));
layer_model!(MaxPool2dPadCase, x: [B, H, W, 2],
    MaxPool2d(kernel = 2, stride = 1, padding = ((1, 0), (0, 1))));
layer_model!(AvgPool2dPadCase, x: [B, 5, 4, 3], AvgPool2d(kernel = (2, 3), padding = ((0, 1), 1)));
layer_model!(MaxPool1dPadCase, x: [B, 7, 3], MaxPool1d(2, padding = (0, 1)));
layer_model!(AvgPool1dPadCase, x: [B, 8, 2], AvgPool1d(kernel = 3, stride = 2, padding = (1, 0)));
layer_model!(MaxPool2dUnbatchedCase, x: [H, W, 3], MaxPool2d(2));
layer_model!(AvgPool1dUnbatchedCase, x: [L, 2], AvgPool1d(kernel = 3, stride = 1, padding = 1));

// Variants without fixtures, checked against finite differences only.
layer_model!(MaxPool2dPaddedCase, x: [1, 5, 5, 2], MaxPool2d(kernel = 3, stride = 2, padding = 1));
layer_model!(AvgPool2dPairsCase, x: [1, 4, 6, 2],
    AvgPool2d(kernel = (2, 3), stride = (1, 2), padding = (1, 1)));
layer_model!(MaxPool1dOverlapCase, x: [2, 5, 2], MaxPool1d(kernel = 2, stride = 1));
layer_model!(AvgPool1dStrideCase, x: [1, 8, 2], AvgPool1d(kernel = 4, stride = 3, padding = 2));

/// Fixture cases of `cases.json`.
pub const CORE_FIXTURES: &[Case] = cases! { check_fixture:
    "maxpool2d" => MaxPool2dCase: F64,
    "maxpool2d_k3_s2" => MaxPool2dK3S2Case: F64,
    "avgpool2d" => AvgPool2dCase: F64,
    "avgpool2d_k3_s1" => AvgPool2dK3S1Case: F64,
};

/// Fixture cases of `cases_sequence_blocks.json`.
pub const TYPED_FIXTURES: &[Case] = cases! { check_fixture:
    "maxpool1d" => MaxPool1dCase: F64,
    "maxpool1d_k3_s2_p1" => MaxPool1dPaddedCase: F64,
    "avgpool1d" => AvgPool1dCase: F64,
    "avgpool1d_k3_s1_p1" => AvgPool1dPaddedCase: F64,
};

/// Fixture cases of `cases_math.json`.
pub const MATH_FIXTURES: &[Case] = cases! { check_fixture:
    "maxpool2d_pad_asymmetric" => MaxPool2dPadCase: F64,
    "avgpool2d_pad_asymmetric" => AvgPool2dPadCase: F64,
    "maxpool1d_pad_0_1" => MaxPool1dPadCase: F64,
    "avgpool1d_pad_1_0" => AvgPool1dPadCase: F64,
    "maxpool2d_unbatched" => MaxPool2dUnbatchedCase: F64,
    "avgpool1d_unbatched" => AvgPool1dUnbatchedCase: F64,
};

/// Variants under the suite of `cases.json`.
const CORE_VARIANTS: &[Case] = cases! { check_fd_only:
    "maxpool2d_padded" => MaxPool2dPaddedCase: F64,
    "avgpool2d_padded_pairs" => AvgPool2dPairsCase: F64,
};

/// Variants under the suite of `cases_sequence_blocks.json`.
const TYPED_VARIANTS: &[Case] = cases! { check_fd_only:
    "maxpool1d_overlapping" => MaxPool1dOverlapCase: F64,
    "avgpool1d_k4_s3_p2" => AvgPool1dStrideCase: F64,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[
        ("Pools, fixture cases", &CORE, CORE_FIXTURES),
        ("Pools, fixture cases", &TYPED, TYPED_FIXTURES),
        ("Pools, fixture cases", &MATH, MATH_FIXTURES),
    ]);
}

#[test]
fn variants_match_finite_differences() {
    let title = "Pools, variants without fixtures: VJP vs finite differences";
    run_tables(&[
        (title, &CORE, CORE_VARIANTS),
        (title, &TYPED, TYPED_VARIANTS),
    ]);
}

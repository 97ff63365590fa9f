//! Numeric checks of the first set of sequence layers: `Conv1d`, `MaxPool1d`,
//! `AvgPool1d`, `Embedding`, `LayerNorm`, `RmsNorm`, `GroupNorm`, `Softplus`,
//! `Silu`, `GeluApprox`, `GeluFast`, `Permute`, `Transpose`, `Squeeze`,
//! `Unsqueeze`, `Slice`, `Mean`, `Sum`, `Max` and `Cast`.
//!
//! 1. Against Python MLX: each case of `tests/fixtures/layers/cases_a.json`
//!    (made with MLX 0.32.2 by `scripts/fixtures/make_layer_fixtures.py`,
//!    format in `scripts/fixtures/README.md`) runs as a one-layer model
//!    through `evaluate_with_gradients` with the fixture's parameters, inputs
//!    and cotangent, compiled and eager. Output, input gradients and
//!    parameter gradients must match the fixture, and the two modes each
//!    other. `Embedding`'s int32 indices have no gradient in the fixture;
//!    Mithril's must be all zeros.
//! 2. Against central finite differences: the vector-Jacobian product of every
//!    case (on the fixture data, and on variants the fixtures lack) is
//!    compared with finite differences of L = sum(output * cotangent) with
//!    respect to every element of every float input and parameter. In
//!    float64 where MLX computes the op in float64 on the CPU; see the `Fd`
//!    constants for the steps and tolerances and why they differ.
//!
//! `cargo test --test layers_numeric_a -- --nocapture` prints the tables of
//! the largest errors (and the share of the tolerance they use).

mod common;

use common::numeric::{
    Case, Dtypes, F32_AFFINE, F64, F64_EXP, FIXTURE_TOL, Fd, MODES_TOL, Stencil, Suite, Tol,
    backend, cases, check_fd_only, check_fixture, check_index, forward, layer_model, pseudo_random,
    run_table, values,
};
use mithril::mlx_rs::{Array, Dtype};
use mithril::{Device, MlxBackend};

const INDEX: &str = "cases_a.json";

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

/// Finite differences for `Cast`, on its inputs rounded to multiples of 1/64
/// (within [-4, 4]) with a step of 1/64: every value, and the value one step
/// either side, is exact in float16 and bfloat16, so the casts round nothing
/// and the central difference is exact.
const CAST_FD: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1.0 / 64.0,
    tol: Tol {
        atol: 1e-12,
        rtol: 1e-12,
    },
    quantise: true,
    stencil: Stencil::ThreePoint,
};

/// The harness's settings for this file (fixture comparisons on the GPU:
/// `common::numeric::GPU_TOL`). `Cast` changes dtypes, so comparisons check them.
const SUITE: Suite = Suite {
    fixture_tol: FIXTURE_TOL,
    modes_tol: MODES_TOL,
    dtypes: Dtypes::Followed,
    known_bugs: &[],
    columns: (30, 66),
};

// ---------------------------------------------------------------------------
// The models: one layer named `layer`, output `y` (`common::numeric::layer_model!`).

// The fixture cases: the layer calls of cases_a.json, the fixtures' input shapes.
layer_model!(Conv1dCase, x: [B, 9, 3], Conv1d(filters = 4, kernel = 3));
layer_model!(Conv1dSameCase, x: [B, 8, 2],
    Conv1d(filters = 3, kernel = 3, padding = same, dilation = 2));
layer_model!(Conv1dStrideCase, x: [B, 10, 3],
    Conv1d(filters = 2, kernel = 4, stride = 2, padding = 1, bias = false));
layer_model!(MaxPool1dCase, x: [B, 8, 3], MaxPool1d(2));
layer_model!(MaxPool1dPaddedCase, x: [B, 9, 2], MaxPool1d(kernel = 3, stride = 2, padding = 1));
layer_model!(AvgPool1dCase, x: [B, 7, 3], AvgPool1d(2));
layer_model!(AvgPool1dPaddedCase, x: [B, 6, 2], AvgPool1d(kernel = 3, stride = 1, padding = 1));
layer_model!(EmbeddingCase, x: [B, T], Embedding(10, 4));
layer_model!(LayerNormCase, x: [B, 3, 6], LayerNorm);
layer_model!(LayerNormNoAffineCase, x: [B, 5], LayerNorm(affine = false));
layer_model!(LayerNormNoBiasCase, x: [B, 5], LayerNorm(eps = 0.001, bias = false));
layer_model!(RmsNormCase, x: [B, 3, 6], RmsNorm);
layer_model!(GroupNormCase, x: [B, 4, 6], GroupNorm(3));
layer_model!(GroupNormPytorchCase, x: [B, 3, 3, 4],
    GroupNorm(groups = 2, pytorch_compatible = true));
layer_model!(GroupNormRank2Case, x: [B, 8], GroupNorm(groups = 2, affine = false));
layer_model!(SoftplusCase, x: [3, 7], Softplus);
layer_model!(SiluCase, x: [3, 7], Silu);
layer_model!(GeluApproxCase, x: [3, 7], GeluApprox);
layer_model!(GeluFastCase, x: [3, 7], GeluFast);
layer_model!(PermuteCase, x: [B, 3, 4], Permute([0, 2, 1]));
layer_model!(Permute4dCase, x: [2, 3, 4, 5], Permute([2, 0, -1, 1]));
layer_model!(TransposeCase, x: [B, 3, 4, 5], Transpose(1, 2));
layer_model!(SqueezeCase, x: [B, 1, 4], Squeeze(1));
layer_model!(UnsqueezeCase, x: [B, 4], Unsqueeze(-1));
layer_model!(SliceCase, x: [B, 6, 3], Slice(1, 1, -1));
layer_model!(SliceStepCase, x: [B, 3, 7], Slice(axis = 2, start = -5, step = 2));
layer_model!(MeanCase, x: [B, 3, 4], Mean(axes = 1));
layer_model!(MeanAllCase, x: [3, 4], Mean);
layer_model!(SumKeepdimsCase, x: [2, 3, 4], Sum(axes = [0, 2], keepdims = true));
layer_model!(MaxCase, x: [B, 5], Max(axes = -1));
layer_model!(CastF16Case, x: [B, 4], Cast(f16));
layer_model!(CastBf16Case, x: [B, 4], Cast(bf16));
layer_model!(CastF32Case, x: [B, 4], Cast(f32));

// Variants without fixtures, checked against finite differences only.
layer_model!(Conv1dDilatedCase, x: [1, 9, 2],
    Conv1d(filters = 2, kernel = 3, stride = 2, padding = 2, dilation = 2));
layer_model!(Conv1dSameK5Case, x: [1, 6, 2], Conv1d(3, 5, padding = same));
layer_model!(MaxPool1dOverlapCase, x: [2, 5, 2], MaxPool1d(kernel = 2, stride = 1));
layer_model!(AvgPool1dStrideCase, x: [1, 8, 2], AvgPool1d(kernel = 4, stride = 3, padding = 2));
layer_model!(LayerNormRank1Case, x: [6], LayerNorm(eps = 0.01));
layer_model!(RmsNormEpsCase, x: [3, 4], RmsNorm(eps = 0.01));
layer_model!(GroupNorm4dCase, x: [2, 2, 3, 8], GroupNorm(groups = 4, eps = 0.001));
layer_model!(GroupNormPytorchPlainCase, x: [2, 4, 6],
    GroupNorm(groups = 3, affine = false, pytorch_compatible = true));
layer_model!(PermuteNegativeCase, x: [2, 3, 4], Permute([-1, 0, 1]));
layer_model!(TransposeNegativeCase, x: [2, 3, 4], Transpose(0, -1));
layer_model!(SqueezeLastCase, x: [3, 4, 1], Squeeze(-1));
layer_model!(UnsqueezeFrontCase, x: [3, 4], Unsqueeze(0));
layer_model!(SliceStep3Case, x: [9, 2], Slice(axis = 0, start = 1, end = 8, step = 3));
layer_model!(MeanKeepdimsCase, x: [2, 3], Mean(keepdims = true));
layer_model!(SumAllCase, x: [2, 3], Sum);
layer_model!(MaxPairCase, x: [2, 3, 4], Max(axes = [0, 2]));
layer_model!(CastF16ExactCase, x: [3, 4], Cast(f16));
layer_model!(CastBf16ExactCase, x: [3, 4], Cast(bf16));
layer_model!(CastF32ExactCase, x: [3, 4], Cast(f32));

// ---------------------------------------------------------------------------
// The tables

const FIXTURE_CASES: &[Case] = cases! { check_fixture:
    "conv1d" => Conv1dCase: F32_AFFINE,
    "conv1d_same_dilation2" => Conv1dSameCase: F32_AFFINE,
    "conv1d_stride2_pad1_nobias" => Conv1dStrideCase: F32_AFFINE,
    "maxpool1d" => MaxPool1dCase: F64,
    "maxpool1d_k3_s2_p1" => MaxPool1dPaddedCase: F64,
    "avgpool1d" => AvgPool1dCase: F64,
    "avgpool1d_k3_s1_p1" => AvgPool1dPaddedCase: F64,
    "embedding" => EmbeddingCase: F64,
    "layer_norm" => LayerNormCase: F64_FAST_NORM,
    "layer_norm_noaffine" => LayerNormNoAffineCase: F64_FAST_NORM,
    "layer_norm_nobias_eps" => LayerNormNoBiasCase: F64_FAST_NORM_SMALL,
    "rms_norm" => RmsNormCase: F64_FAST_NORM,
    "group_norm" => GroupNormCase: F64,
    "group_norm_pytorch" => GroupNormPytorchCase: F64_FAST_NORM,
    "group_norm_noaffine_rank2" => GroupNormRank2Case: F64,
    "softplus" => SoftplusCase: F64_EXP,
    "silu" => SiluCase: F64_EXP,
    "gelu_approx" => GeluApproxCase: F64_EXP,
    "gelu_fast" => GeluFastCase: F64_EXP,
    "permute" => PermuteCase: F64,
    "permute_4d" => Permute4dCase: F64,
    "transpose" => TransposeCase: F64,
    "squeeze" => SqueezeCase: F64,
    "unsqueeze" => UnsqueezeCase: F64,
    "slice" => SliceCase: F64,
    "slice_step" => SliceStepCase: F64,
    "mean" => MeanCase: F64,
    "mean_all" => MeanAllCase: F64,
    "sum_keepdims" => SumKeepdimsCase: F64,
    "max" => MaxCase: F64,
    "cast_f16" => CastF16Case: CAST_FD,
    "cast_bf16" => CastBf16Case: CAST_FD,
    "cast_f32" => CastF32Case: CAST_FD,
};

const FD_ONLY_CASES: &[Case] = cases! { check_fd_only:
    "conv1d_stride2_pad2_dilation2" => Conv1dDilatedCase: F32_AFFINE,
    "conv1d_same_kernel5" => Conv1dSameK5Case: F32_AFFINE,
    "maxpool1d_overlapping" => MaxPool1dOverlapCase: F64,
    "avgpool1d_k4_s3_p2" => AvgPool1dStrideCase: F64,
    "layer_norm_rank1" => LayerNormRank1Case: F64_FAST_NORM,
    "rms_norm_eps" => RmsNormEpsCase: F64_FAST_NORM,
    "group_norm_4d" => GroupNorm4dCase: F64,
    "group_norm_pytorch_noaffine" => GroupNormPytorchPlainCase: F64_FAST_NORM,
    "permute_negative" => PermuteNegativeCase: F64,
    "transpose_negative" => TransposeNegativeCase: F64,
    "squeeze_last" => SqueezeLastCase: F64,
    "unsqueeze_front" => UnsqueezeFrontCase: F64,
    "slice_step3" => SliceStep3Case: F64,
    "mean_keepdims_all" => MeanKeepdimsCase: F64,
    "sum_all" => SumAllCase: F64,
    "max_two_axes" => MaxPairCase: F64,
    "cast_f16_exact" => CastF16ExactCase: CAST_FD,
    "cast_bf16_exact" => CastBf16ExactCase: CAST_FD,
    "cast_f32_exact" => CastF32ExactCase: CAST_FD,
};

// ---------------------------------------------------------------------------
// Tests

/// The fixture cases are exactly those of `cases_a.json`, with the same layer calls.
#[test]
fn fixture_cases_are_those_of_the_index() {
    check_index(INDEX, 33, FIXTURE_CASES);
}

#[test]
fn layers_match_python_mlx_and_finite_differences() {
    run_table(
        &SUITE,
        "Fixture cases: max |diff| (share of tolerance); vs MLX and compiled/eager in the fixture's types",
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
    SymbolicSlices {
        input x: [B, T, 3];
        x -> inner: Slice(1, 1, -1) => inner;
        x -> head: Slice(axis = 1, start = 0, end = 4) => head;
        x -> tail: Slice(1, -2) => tail;
        output inner, head, tail;
    }
}

/// Slices of a symbolic axis: both ends counted from the same side, sized
/// symbolically (`T - 2`) or literally; a run with too short an axis is a
/// clear error.
#[test]
fn slices_of_symbolic_axes() {
    let graph = mithril::runtime::graph_of::<SymbolicSlices>();
    let shapes: Vec<String> = graph.outputs.iter().map(|o| o.shape.to_string()).collect();
    assert_eq!(shapes, ["[B, T - 2, 3]", "[B, 4, 3]", "[B, 2, 3]"]);

    let backend = backend(Device::Cpu, true).unwrap();
    let mut model = mithril::compile::<SymbolicSlices>(&backend);
    let x: Vec<f32> = (0..2 * 6 * 3).map(|i| i as f32).collect();
    let inputs = SymbolicSlicesInputs {
        x: Array::from_slice(&x, &[2, 6, 3]),
    };
    let out = model.evaluate(&SymbolicSlicesParams {}, &inputs).unwrap();
    assert_eq!(out.inner.shape(), &[2, 4, 3]);
    assert_eq!(out.head.shape(), &[2, 4, 3]);
    assert_eq!(out.tail.shape(), &[2, 2, 3]);
    // x[0, 1, 0] = 3, x[0, 4, 0] = 12.
    let tail = values(&out.tail).unwrap();
    assert_eq!(&tail[..3], &[12.0, 13.0, 14.0]);
    let inner = values(&out.inner).unwrap();
    assert_eq!(&inner[..3], &[3.0, 4.0, 5.0]);
    let head = values(&out.head).unwrap();
    assert_eq!(&head[..3], &[0.0, 1.0, 2.0]);

    let short = SymbolicSlicesInputs {
        x: Array::zeros::<f32>(&[2, 3, 3]).unwrap(),
    };
    let err = model
        .evaluate(&SymbolicSlicesParams {}, &short)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`Slice` 0..4 does not fit axis 1"), "{err}");
}

mithril::model! {
    InitCheck {
        input ids: [B, T];
        ids -> emb: Embedding(1000, 16) -> conv: Conv1d(8, 3) -> ln: LayerNorm
            -> rms: RmsNorm -> gn: GroupNorm(4) => y;
        output y;
    }
}

/// Parameter names, shapes and initialisation are mlx.nn's.
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

//! Shape operations (`mithril-core/src/layers/shape_ops.rs`): `Permute`,
//! `Transpose`, `Squeeze`, `Unsqueeze`, `Slice` and `Cast`. A `Cast` case
//! keeps its output, cotangent and gradients in their own types (float16,
//! bfloat16): its suite compares dtypes.

use crate::harness::{
    Case, F64, Fd, Stencil, Tol, backend, cases, check_fd_only, check_fixture, layer_model,
    run_tables, values,
};
use crate::suites::TYPED;
use mithril::Device;
use mithril::mlx_rs::{Array, Dtype};

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

// The fixture cases: the layer calls of cases_sequence_blocks.json, the fixtures' input shapes.
layer_model!(PermuteCase, x: [B, 3, 4], Permute([0, 2, 1]));
layer_model!(Permute4dCase, x: [2, 3, 4, 5], Permute([2, 0, -1, 1]));
layer_model!(TransposeCase, x: [B, 3, 4, 5], Transpose(1, 2));
layer_model!(SqueezeCase, x: [B, 1, 4], Squeeze(1));
layer_model!(UnsqueezeCase, x: [B, 4], Unsqueeze(-1));
layer_model!(SliceCase, x: [B, 6, 3], Slice(1, 1, -1));
layer_model!(SliceStepCase, x: [B, 3, 7], Slice(axis = 2, start = -5, step = 2));
layer_model!(CastF16Case, x: [B, 4], Cast(f16));
layer_model!(CastBf16Case, x: [B, 4], Cast(bf16));
layer_model!(CastF32Case, x: [B, 4], Cast(f32));

// Variants without fixtures, checked against finite differences only.
layer_model!(PermuteNegativeCase, x: [2, 3, 4], Permute([-1, 0, 1]));
layer_model!(TransposeNegativeCase, x: [2, 3, 4], Transpose(0, -1));
layer_model!(SqueezeLastCase, x: [3, 4, 1], Squeeze(-1));
layer_model!(UnsqueezeFrontCase, x: [3, 4], Unsqueeze(0));
layer_model!(SliceStep3Case, x: [9, 2], Slice(axis = 0, start = 1, end = 8, step = 3));
layer_model!(CastF16ExactCase, x: [3, 4], Cast(f16));
layer_model!(CastBf16ExactCase, x: [3, 4], Cast(bf16));
layer_model!(CastF32ExactCase, x: [3, 4], Cast(f32));

/// Fixture cases of `cases_sequence_blocks.json`.
pub const TYPED_FIXTURES: &[Case] = cases! { check_fixture:
    "permute" => PermuteCase: F64,
    "permute_4d" => Permute4dCase: F64,
    "transpose" => TransposeCase: F64,
    "squeeze" => SqueezeCase: F64,
    "unsqueeze" => UnsqueezeCase: F64,
    "slice" => SliceCase: F64,
    "slice_step" => SliceStepCase: F64,
    "cast_f16" => CastF16Case: CAST_FD,
    "cast_bf16" => CastBf16Case: CAST_FD,
    "cast_f32" => CastF32Case: CAST_FD,
};

/// Variants under the suite of `cases_sequence_blocks.json`.
const TYPED_VARIANTS: &[Case] = cases! { check_fd_only:
    "permute_negative" => PermuteNegativeCase: F64,
    "transpose_negative" => TransposeNegativeCase: F64,
    "squeeze_last" => SqueezeLastCase: F64,
    "unsqueeze_front" => UnsqueezeFrontCase: F64,
    "slice_step3" => SliceStep3Case: F64,
    "cast_f16_exact" => CastF16ExactCase: CAST_FD,
    "cast_bf16_exact" => CastBf16ExactCase: CAST_FD,
    "cast_f32_exact" => CastF32ExactCase: CAST_FD,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[("Shape operations, fixture cases", &TYPED, TYPED_FIXTURES)]);
}

#[test]
fn variants_match_finite_differences() {
    run_tables(&[(
        "Shape operations, variants without fixtures: VJP vs finite differences",
        &TYPED,
        TYPED_VARIANTS,
    )]);
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

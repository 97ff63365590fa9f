//! What runs without a GPU: launch checks, the refusal on the CPU, custom
//! VJPs on MLX operations, and the fused operations' fallbacks.

use mlx_rs::error::Exception;
use mlx_rs::transforms::fallible_vjp;
use mlx_rs::{Array, Dtype, fast};

use super::*;
use crate::Error;

fn copy_kernel() -> Kernel {
    Kernel::cuda(
        "copy",
        &["a"],
        &["out"],
        "auto i = cooperative_groups::this_grid().thread_rank(); out[i] = a[i];",
    )
}

fn x() -> Array {
    Array::from_slice(&[0.5f32, -1.0, 2.0, 3.5, -0.25, 1.5], &[2, 3])
}

fn values(a: &Array) -> Vec<f32> {
    a.as_dtype(Dtype::Float32)
        .unwrap()
        .as_slice::<f32>()
        .to_vec()
}

fn close(a: &Array, b: &Array, tol: f32) {
    let (a, b) = (values(a), values(b));
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!((x - y).abs() <= tol, "element {i}: {x} vs {y}");
    }
}

#[test]
fn launches_that_do_not_fit_are_refused_before_mlx() {
    let a = x();
    let ok = Launch::new([6, 1, 1], [2, 1, 1]).output(&[2, 3], Dtype::Float32);
    let err = copy_kernel().apply(&[&a, &a], &ok).unwrap_err();
    assert!(
        matches!(&err, Error::Kernel(KernelError::Launch { what: "inputs", found, .. }) if found == "2"),
        "{err}"
    );
    let err = copy_kernel()
        .apply(&[&a], &Launch::new([6, 1, 1], [2, 1, 1]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Kernel(KernelError::Launch {
                what: "outputs",
                ..
            })
        ),
        "{err}"
    );
    let zero = Launch::new([6, 0, 1], [2, 1, 1]).output(&[2, 3], Dtype::Float32);
    let err = copy_kernel().apply(&[&a], &zero).unwrap_err();
    assert!(
        matches!(err, Error::Kernel(KernelError::Launch { what: "grid", .. })),
        "{err}"
    );
    let bad = Kernel::cuda("copy", &["a b"], &["out"], "");
    let err = bad.apply(&[&a], &ok).unwrap_err();
    assert!(
        matches!(&err, Error::Kernel(KernelError::Invalid { what: "input name", found, .. }) if found == "a b"),
        "{err}"
    );
    let nul = Kernel::cuda("copy", &["a"], &["out"], "out[0] = a[0];\0");
    let err = nul.apply(&[&a], &ok).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Kernel(KernelError::Invalid { what: "source", .. })
        ),
        "{err}"
    );
    let template = ok.clone().template("1T", Dtype::Float32);
    let err = copy_kernel().apply(&[&a], &template).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Kernel(KernelError::Invalid {
                what: "template argument",
                ..
            })
        ),
        "{err}"
    );
}

#[test]
fn a_kernel_where_it_cannot_run_is_a_typed_error() {
    let a = x();
    let launch = Launch::new([6, 1, 1], [2, 1, 1]).output(&[2, 3], Dtype::Float32);
    let kernel = copy_kernel();
    if Backend::Cuda.runs_here() {
        let out = kernel.apply(&[&a], &launch).unwrap();
        assert_eq!(values(&out[0]), values(&a));
        return;
    }
    // Twice: the refusal does not depend on a handle built or not.
    for _ in 0..2 {
        let err = kernel.apply(&[&a], &launch).unwrap_err();
        assert!(
            matches!(&err, Error::Kernel(KernelError::Unavailable { kernel, backend: Backend::Cuda, .. }) if kernel == "copy"),
            "{err}"
        );
    }
    // On the CPU stream even MLX's CUDA build refuses.
    mlx_rs::with_device(mlx_rs::Device::cpu(), || {
        assert!(!Backend::Cuda.runs_here());
        assert!(kernel.apply(&[&a], &launch).is_err());
    });
}

#[test]
fn launches_become_mlx_configurations_in_order() {
    let launch = Launch::new([1024, 2, 1], [256, 1, 1])
        .output(&[4, 8], Dtype::Bfloat16)
        .output(&[4], Dtype::Float32)
        .template("T", Dtype::Bfloat16)
        .template("N", 8)
        .template("EXACT", true)
        .init_value(0.5)
        .verbose(true);
    let names: Vec<_> = ["T", "N", "EXACT"]
        .map(|n| std::ffi::CString::new(n).unwrap())
        .into();
    let raw = source::raw_launch(&launch, &names);
    assert_eq!((raw.grid, raw.thread_group), ([1024, 2, 1], [256, 1, 1]));
    assert_eq!(
        raw.outputs,
        &[(vec![4, 8], Dtype::Bfloat16), (vec![4], Dtype::Float32)]
    );
    assert_eq!((raw.init_value, raw.verbose), (Some(0.5), true));
    use crate::sys::RawTemplateArg as R;
    assert!(matches!(
        raw.template.as_slice(),
        [R::Dtype(t, Dtype::Bfloat16), R::Int(n, 8), R::Bool(e, true)]
            if t.to_str() == Ok("T") && n.to_str() == Ok("N") && e.to_str() == Ok("EXACT")
    ));
}

/// x^2 with the backward given.
fn square_with(backward_factor: f32) -> CustomVjp {
    custom_vjp(
        |x| Ok(vec![x[0].square()?]),
        move |v| {
            let factor = Array::from_f32(backward_factor);
            Ok(vec![
                v.cotangents[0].multiply(v.primals[0].multiply(&factor)?)?,
            ])
        },
    )
    .unwrap()
}

#[test]
fn a_custom_vjp_computes_its_forward_and_differentiates_through_its_backward() {
    let a = x();
    // A deliberately wrong backward (3x instead of 2x) is the one used.
    let wrong = square_with(3.0);
    assert_eq!(
        values(&wrong.apply(&[&a]).unwrap()[0]),
        values(&a.square().unwrap())
    );
    let ones = Array::ones::<f32>(&[2, 3]).unwrap();
    let f = |x: &[Array]| -> Result<Vec<Array>, Exception> { Ok(wrong.apply(&[&x[0]])?) };
    let (_, grads) =
        fallible_vjp(f, std::slice::from_ref(&a), std::slice::from_ref(&ones)).unwrap();
    close(&grads[0], &a.multiply(Array::from_f32(3.0)).unwrap(), 0.0);
    // The true backward agrees with MLX's own gradient of x^2 * y.
    let right = square_with(2.0);
    let cot = Array::from_slice(&[1.0f32, 2.0, -1.0, 0.5, 3.0, -2.0], &[2, 3]);
    let custom = |x: &[Array]| -> Result<Vec<Array>, Exception> { Ok(right.apply(&[&x[0]])?) };
    let plain = |x: &[Array]| -> Result<Vec<Array>, Exception> { Ok(vec![x[0].square()?]) };
    let (_, g1) =
        fallible_vjp(custom, std::slice::from_ref(&a), std::slice::from_ref(&cot)).unwrap();
    let (_, g2) =
        fallible_vjp(plain, std::slice::from_ref(&a), std::slice::from_ref(&cot)).unwrap();
    close(&g1[0], &g2[0], 0.0);
    // And central finite differences of sum(x^2 * cot).
    let base = values(&a);
    let weights = values(&cot);
    let loss = |v: &[f32]| -> f64 {
        v.iter()
            .zip(&weights)
            .map(|(x, w)| (*x as f64).powi(2) * *w as f64)
            .sum()
    };
    let h = 1e-3;
    for (i, g) in values(&g1[0]).iter().enumerate() {
        let (mut up, mut down) = (base.clone(), base.clone());
        up[i] += h;
        down[i] -= h;
        let fd = (loss(&up) - loss(&down)) / (2.0 * h as f64);
        assert!((fd - *g as f64).abs() < 1e-3, "element {i}: {fd} vs {g}");
    }
}

#[test]
fn a_custom_vjp_inside_a_compiled_function_uses_its_backward() {
    let wrong = square_with(3.0);
    let step = move |x: &[Array]| -> Result<Vec<Array>, Exception> {
        let f = |x: &[Array]| -> Result<Vec<Array>, Exception> { Ok(wrong.apply(&[&x[0]])?) };
        let ones = Array::ones::<f32>(x[0].shape())?;
        let (_, g) = fallible_vjp(f, x, &[ones])?;
        Ok(g)
    };
    let mut compiled = mlx_rs::transforms::compile::compile(step, None);
    let a = x();
    let g = compiled(std::slice::from_ref(&a)).unwrap();
    close(&g[0], &a.multiply(Array::from_f32(3.0)).unwrap(), 0.0);
}

#[test]
fn a_backward_that_does_not_fit_is_a_typed_error() {
    let a = x();
    let short = custom_vjp(|x| Ok(vec![x[0].square()?]), |_| Ok(vec![])).unwrap();
    let f = |x: &[Array]| -> Result<Vec<Array>, Exception> { Ok(short.apply(&[&x[0]])?) };
    let err = Error::from(
        fallible_vjp(f, std::slice::from_ref(&a), std::slice::from_ref(&a)).unwrap_err(),
    );
    assert!(
        matches!(err, Error::Kernel(KernelError::Cotangent { index: 0, .. })),
        "{err}"
    );
    let misshapen = custom_vjp(
        |x| Ok(vec![x[0].square()?]),
        |_| Ok(vec![Array::from_f32(1.0)]),
    )
    .unwrap();
    let f = |x: &[Array]| -> Result<Vec<Array>, Exception> { Ok(misshapen.apply(&[&x[0]])?) };
    let err = Error::from(
        fallible_vjp(f, std::slice::from_ref(&a), std::slice::from_ref(&a)).unwrap_err(),
    );
    assert!(
        matches!(&err, Error::Kernel(KernelError::Cotangent { index: 0, found, .. }) if found == "shape []"),
        "{err}"
    );
    // A forward's typed error comes back typed.
    let failing = custom_vjp(
        |_| Err(Error::Internal("forward failed on purpose")),
        |v| Ok(v.cotangents.to_vec()),
    )
    .unwrap();
    let err = failing.apply(&[&a]).unwrap_err();
    assert!(
        matches!(err, Error::Internal("forward failed on purpose")),
        "{err}"
    );
    // A panicking forward is an error, not an abort.
    let panicking = custom_vjp(|_| panic!("boom"), |v| Ok(v.cotangents.to_vec())).unwrap();
    let err = panicking.apply(&[&a]).unwrap_err();
    assert!(err.to_string().contains("boom"), "{err}");
}

#[test]
fn a_kernel_op_falls_back_to_its_mlx_operations() {
    let op = KernelOp::cuda(
        |x| {
            let launch =
                Launch::new([x[0].size(), 1, 1], [256, 1, 1]).output(x[0].shape(), x[0].dtype());
            copy_kernel().apply(&[&x[0]], &launch)
        },
        |x| Ok(vec![x[0].multiply(Array::from_f32(2.0))?]),
    )
    .backward(|v| Ok(vec![v.cotangents[0].multiply(Array::from_f32(2.0))?]));
    let a = x();
    assert_eq!(op.uses_kernel(), Backend::Cuda.runs_here());
    if op.uses_kernel() {
        return;
    }
    let y = op.apply(&[&a]).unwrap();
    assert_eq!(values(&y[0]), values(&op.apply_fallback(&[&a]).unwrap()[0]));
    close(&y[0], &a.multiply(Array::from_f32(2.0)).unwrap(), 0.0);
}

fn affine() -> (Array, Array) {
    (
        Array::from_slice(&[1.5f32, -0.5, 2.0], &[3]),
        Array::from_slice(&[0.1f32, 0.2, -0.3], &[3]),
    )
}

#[test]
fn fused_operations_fall_back_to_the_operations_they_replace() {
    let (a, (w, b)) = (x(), affine());
    for route in [Route::Auto, Route::Ops] {
        if route == Route::Auto && Backend::Cuda.runs_here() {
            continue;
        }
        let y = layer_norm(&a, Some(&w), Some(&b), 1e-5, route).unwrap();
        assert_eq!(
            values(&y),
            values(&fast::layer_norm(&a, Some(&w), Some(&b), 1e-5).unwrap())
        );
        let r = a.multiply(Array::from_f32(-0.5)).unwrap();
        let (h, y) = add_layer_norm(&a, &r, Some(&w), None, 1e-5, route).unwrap();
        let sum = a.add(&r).unwrap();
        assert_eq!(values(&h), values(&sum));
        assert_eq!(
            values(&y),
            values(&fast::layer_norm(&sum, Some(&w), None, 1e-5).unwrap())
        );
        let g = bias_gelu(&a, &b, route).unwrap();
        let expected = crate::lower::gelu_approx(&a.add(&b).unwrap()).unwrap();
        assert_eq!(values(&g), values(&expected));
    }
    if !Backend::Cuda.runs_here() {
        for err in [
            layer_norm(&a, None, None, 1e-5, Route::Kernel).unwrap_err(),
            add_layer_norm(&a, &a, None, None, 1e-5, Route::Kernel).unwrap_err(),
            bias_gelu(&a, &b, Route::Kernel).unwrap_err(),
        ] {
            assert!(
                matches!(err, Error::Kernel(KernelError::Unavailable { .. })),
                "{err}"
            );
        }
    }
}

#[test]
fn fused_operations_refuse_misshapen_arguments_on_the_kernel_route() {
    let a = x();
    let err = bias_gelu(&a, &Array::from_slice(&[1.0f32, 2.0], &[2]), Route::Kernel).unwrap_err();
    assert!(
        matches!(err, Error::Kernel(KernelError::Launch { what: "bias", .. })),
        "{err}"
    );
    let other = Array::ones::<f32>(&[3, 2]).unwrap();
    let err = add_layer_norm(&a, &other, None, None, 1e-5, Route::Kernel).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Kernel(KernelError::Launch {
                what: "residual",
                ..
            })
        ),
        "{err}"
    );
}

#[test]
fn row_blocks_are_whole_warps_holding_every_element() {
    for n in [1, 31, 64, 767, 768, 1024, 4096, 5000, 16384] {
        let (block, per) = fused::row_block_for_tests(n);
        assert!(
            block % 32 == 0 && (32..=1024).contains(&block),
            "{n}: {block}"
        );
        assert!(
            block * per >= n && block * (per - 1) < n,
            "{n}: {block} x {per}"
        );
    }
    assert_eq!(fused::row_block_for_tests(768), (192, 4));
}

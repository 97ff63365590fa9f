//! Foundation checks for the MLX build: the pieces of `mlx_rs` that mithril
//! relies on, exercised through `mithril_mlx::mlx_rs` so that they run against
//! the same library the backend links (on Linux: the PyPI wheel's libmlx.so
//! with OpenBLAS, see docs/building.md).

use half::{bf16, f16};
use mithril_mlx::mlx_rs;
use mlx_rs::error::Exception;
use mlx_rs::transforms::compile::compile;
use mlx_rs::transforms::{grad, value_and_grad_with_argnums};
use mlx_rs::{Array, Dtype, ops};

type Result<T> = std::result::Result<T, Exception>;

/// Element-wise closeness with a relative and an absolute tolerance.
fn assert_close(actual: &[f32], expected: &[f32], tol: f32) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "length: {actual:?} vs {expected:?}"
    );
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol * (1.0 + e.abs()),
            "element {i}: got {a}, expected {e} (all: {actual:?} vs {expected:?})"
        );
    }
}

#[test]
fn array_creation() -> Result<()> {
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    assert_eq!(a.shape(), &[2, 3]);
    assert_eq!(a.dtype(), Dtype::Float32);
    assert_eq!(a.size(), 6);
    assert_eq!(a.as_slice::<f32>(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);

    let i = Array::from_slice(&[7i32, -8, 9], &[3, 1]);
    assert_eq!(i.shape(), &[3, 1]);
    assert_eq!(i.dtype(), Dtype::Int32);
    assert_eq!(i.as_slice::<i32>(), &[7, -8, 9]);

    let z = Array::zeros::<f32>(&[3, 4])?;
    assert_eq!(z.shape(), &[3, 4]);
    assert!(z.as_slice::<f32>().iter().all(|&x| x == 0.0));

    let o = Array::ones::<i32>(&[2, 2, 2])?;
    assert_eq!(o.shape(), &[2, 2, 2]);
    assert_eq!(o.dtype(), Dtype::Int32);
    assert_eq!(o.as_slice::<i32>(), &[1; 8]);

    let r = Array::arange::<_, f32>(None, 5, None)?;
    assert_eq!(r.shape(), &[5]);
    assert_eq!(r.as_slice::<f32>(), &[0.0, 1.0, 2.0, 3.0, 4.0]);

    let stepped = Array::arange::<_, i32>(2, 11, 3)?;
    assert_eq!(stepped.as_slice::<i32>(), &[2, 5, 8]);

    let reshaped = r.reshape(&[5, 1])?;
    assert_eq!(reshaped.shape(), &[5, 1]);
    Ok(())
}

#[test]
fn matmul_matches_hand_computed_values() -> Result<()> {
    // [1 2 3]   [ 7  8]   [ 58  64]
    // [4 5 6] x [ 9 10] = [139 154]
    //           [11 12]
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let b = Array::from_slice(&[7.0f32, 8.0, 9.0, 10.0, 11.0, 12.0], &[3, 2]);
    let c = ops::matmul(&a, &b)?;
    assert_eq!(c.shape(), &[2, 2]);
    assert_eq!(c.as_slice::<f32>(), &[58.0, 64.0, 139.0, 154.0]);

    // The other order: (3x2)(2x3) is 3x3.
    let d = b.matmul(&a)?;
    assert_eq!(d.shape(), &[3, 3]);
    assert_eq!(
        d.as_slice::<f32>(),
        &[39.0, 54.0, 69.0, 49.0, 68.0, 87.0, 59.0, 82.0, 105.0]
    );

    // A batched matrix-vector product broadcasts the vector's batch dim.
    let batch = Array::from_slice(&[1.0f32, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 3.0], &[2, 2, 2]);
    let v = Array::from_slice(&[5.0f32, -1.0], &[2, 1]);
    let bv = ops::matmul(&batch, &v)?;
    assert_eq!(bv.shape(), &[2, 2, 1]);
    assert_eq!(bv.as_slice::<f32>(), &[5.0, -1.0, 10.0, -3.0]);
    Ok(())
}

/// f(x) = sum(x^2 * sin(x)); f'(x) = 2x sin(x) + x^2 cos(x).
fn x2_sin(x: &Array) -> Result<Array> {
    ops::multiply(x.square()?, x.sin()?)?.sum(None)
}

#[test]
fn grad_matches_analytic_gradient() -> Result<()> {
    let xs = [-2.0f32, -0.5, 0.0, 0.75, 1.5, 3.0];
    let x = Array::from_slice(&xs, &[6]);
    let mut df = grad(x2_sin);
    let g = df(&x)?;
    assert_eq!(g.shape(), &[6]);
    let expected: Vec<f32> = xs
        .iter()
        .map(|&x| 2.0 * x * x.sin() + x * x * x.cos())
        .collect();
    assert_close(g.as_slice::<f32>(), &expected, 1e-5);

    // The same transform can be applied again to other values.
    let g1 = df(&Array::from_slice(&[1.0f32], &[1]))?;
    assert_close(g1.as_slice::<f32>(), &[2.0 * 1f32.sin() + 1f32.cos()], 1e-5);
    Ok(())
}

#[test]
fn value_and_grad_of_least_squares() -> Result<()> {
    // L(w, b; X, y) = sum((X w + b - y)^2)
    // dL/dw = 2 X^T r, dL/db = 2 sum(r), with r = X w + b - y.
    let loss = |args: &[Array]| -> Result<Vec<Array>> {
        let (w, b, x, y) = (&args[0], &args[1], &args[2], &args[3]);
        let r = ops::subtract(ops::add(ops::matmul(x, w)?, b)?, y)?;
        Ok(vec![r.square()?.sum(None)?])
    };
    let xs = [1.0f32, 2.0, -1.0, 0.5, 3.0, -2.0];
    let ys = [1.0f32, -1.0, 2.0];
    let ws = [0.5f32, -1.5];
    let bias = 0.25f32;

    let args = [
        Array::from_slice(&ws, &[2, 1]),
        Array::from_f32(bias),
        Array::from_slice(&xs, &[3, 2]),
        Array::from_slice(&ys, &[3, 1]),
    ];
    let mut vg = value_and_grad_with_argnums(loss, &[0, 1]);
    let (value, grads) = vg(&args)?;

    let r: Vec<f32> = (0..3)
        .map(|i| xs[2 * i] * ws[0] + xs[2 * i + 1] * ws[1] + bias - ys[i])
        .collect();
    let expected_loss: f32 = r.iter().map(|r| r * r).sum();
    let expected_dw: Vec<f32> = (0..2)
        .map(|j| 2.0 * (0..3).map(|i| xs[2 * i + j] * r[i]).sum::<f32>())
        .collect();
    let expected_db = 2.0 * r.iter().sum::<f32>();

    assert_eq!(value.len(), 1);
    assert_close(&[value[0].item_exact::<f32>()], &[expected_loss], 1e-5);
    assert_eq!(grads.len(), 2, "one gradient per argnum");
    assert_eq!(grads[0].shape(), &[2, 1]);
    assert_close(grads[0].as_slice::<f32>(), &expected_dw, 1e-5);
    assert_eq!(grads[1].shape(), &[] as &[i32]);
    assert_close(&[grads[1].item_exact::<f32>()], &[expected_db], 1e-5);
    Ok(())
}

/// Captures nothing: every array comes in as an argument.
fn fused(x: &Array, y: &Array) -> Result<Array> {
    let t = ops::add(ops::multiply(x.exp()?, y)?, x.sin()?)?;
    ops::multiply(t, Array::from_f32(0.5))
}

#[test]
fn compiled_closure_matches_eager() -> Result<()> {
    let mut compiled = compile(|(x, y): (&Array, &Array)| fused(x, y), None);

    for (offset, scale) in [(0.0f32, 1.0f32), (-1.0, 2.5)] {
        let x = ops::add(
            ops::multiply(
                Array::arange::<_, f32>(None, 12, None)?,
                Array::from_f32(0.25),
            )?,
            Array::from_f32(offset),
        )?
        .reshape(&[3, 4])?;
        let y = ops::multiply(Array::ones::<f32>(&[3, 4])?, Array::from_f32(scale))?;

        let eager = fused(&x, &y)?;
        let traced = compiled((&x, &y))?;
        assert_eq!(traced.shape(), eager.shape());
        assert_close(traced.as_slice::<f32>(), eager.as_slice::<f32>(), 1e-6);

        // And both agree with plain Rust arithmetic.
        let expected: Vec<f32> = (0..12)
            .map(|i| {
                let x = i as f32 * 0.25 + offset;
                0.5 * (x.exp() * scale + x.sin())
            })
            .collect();
        assert_close(traced.as_slice::<f32>(), &expected, 1e-5);
    }
    Ok(())
}

#[test]
fn f16_round_trip_is_exact() -> Result<()> {
    // All exactly representable in IEEE half: the extremes of the normal
    // range, the smallest subnormal, a fraction using all 10 mantissa bits.
    let values: Vec<f16> = [
        0.0f32,
        -0.0,
        1.0,
        -2.25,
        1.0 + 1.0 / 1024.0,
        65504.0,
        -65504.0,
        6.103_515_6e-5, // 2^-14, smallest normal
        5.960_464_5e-8, // 2^-24, smallest subnormal
        1234.0,
    ]
    .into_iter()
    .map(f16::from_f32)
    .collect();
    for v in &values {
        assert!(v.is_finite());
    }
    let a = Array::from_slice(&values, &[values.len() as i32]);
    assert_eq!(a.dtype(), Dtype::Float16);
    assert_eq!(a.as_slice::<f16>(), values.as_slice());

    let wide = a.as_type::<f32>()?;
    assert_eq!(wide.dtype(), Dtype::Float32);
    let expected: Vec<f32> = values.iter().map(|v| v.to_f32()).collect();
    assert_eq!(wide.as_slice::<f32>(), expected.as_slice());

    let back = wide.as_type::<f16>()?;
    assert_eq!(back.dtype(), Dtype::Float16);
    let bits = |s: &[f16]| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(back.as_slice::<f16>()), bits(&values));

    // Arithmetic in f16 keeps the dtype and gives the exact result here.
    let doubled = ops::add(&a, &a)?;
    assert_eq!(doubled.dtype(), Dtype::Float16);
    assert_eq!(doubled.as_slice::<f16>()[3], f16::from_f32(-4.5));
    Ok(())
}

#[test]
fn bf16_round_trip_is_exact() -> Result<()> {
    let values: Vec<bf16> = [
        0.0f32,
        1.0,
        -3.5,
        1.0 + 1.0 / 128.0, // all 7 mantissa bits
        3.389_531_4e38,    // largest finite bf16
        1.175_494_4e-38,   // smallest normal (same as f32)
        -1024.0,
        0.15625,
    ]
    .into_iter()
    .map(bf16::from_f32)
    .collect();
    let a = Array::from_slice(&values, &[2, 4]);
    assert_eq!(a.dtype(), Dtype::Bfloat16);
    assert_eq!(a.shape(), &[2, 4]);
    assert_eq!(a.as_slice::<bf16>(), values.as_slice());

    let wide = a.as_type::<f32>()?;
    let expected: Vec<f32> = values.iter().map(|v| v.to_f32()).collect();
    assert_eq!(wide.as_slice::<f32>(), expected.as_slice());

    let back = wide.as_type::<bf16>()?;
    assert_eq!(back.dtype(), Dtype::Bfloat16);
    let bits = |s: &[bf16]| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(back.as_slice::<bf16>()), bits(&values));

    // f16 <-> bf16 through MLX for a value both represent exactly.
    let h = Array::from_slice(&[f16::from_f32(0.375)], &[1]).as_type::<bf16>()?;
    assert_eq!(h.as_slice::<bf16>(), &[bf16::from_f32(0.375)]);
    Ok(())
}

#[test]
fn mlx_errors_are_results_not_aborts() {
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);

    let err = ops::matmul(&a, &a).expect_err("(2x3)(2x3) must not multiply");
    assert!(err.what().contains("[matmul]"), "message: {}", err.what());

    let err = a
        .reshape(&[4])
        .expect_err("6 elements do not fit in shape [4]");
    assert!(err.what().contains("[reshape]"), "message: {}", err.what());

    // The process and MLX carry on normally afterwards.
    let ok = a
        .reshape(&[3, 2])
        .expect("a valid reshape after the errors");
    assert_eq!(ok.shape(), &[3, 2]);
    let c = ops::matmul(&a, &ok).expect("(2x3)(3x2) multiplies");
    assert_eq!(c.as_slice::<f32>(), &[22.0, 28.0, 49.0, 64.0]);
}

/// The wheel's libblas-*.so is a symlink to Debian's OpenBLAS (`cargo mithril setup`); a
/// missing swap would leave the netlib reference BLAS, about 30x slower.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn blas_is_openblas() -> Result<()> {
    let a = Array::ones::<f32>(&[64, 64])?;
    let c = ops::matmul(&a, &a)?;
    c.eval()?;
    assert_eq!(c.as_slice::<f32>()[0], 64.0);

    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    let libs: Vec<String> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter(|path| path.starts_with('/'))
        .map(|path| {
            std::fs::canonicalize(path)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| path.to_string())
        })
        .collect();
    assert!(
        libs.iter().any(|p| p.contains("libmlx")),
        "libmlx is not mapped: {libs:#?}"
    );
    assert!(
        libs.iter().any(|p| p.contains("openblas")),
        "no OpenBLAS library is mapped: {libs:#?}"
    );
    assert!(
        !libs.iter().any(|p| p.contains("mlx_cpu.libs/libblas")),
        "the wheel's reference BLAS is mapped: {libs:#?}"
    );
    Ok(())
}

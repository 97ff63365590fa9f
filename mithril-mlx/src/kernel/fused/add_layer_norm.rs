//! The residual add and the layer norm after it, in one kernel: `h = x + r`
//! and `layer_norm(h)`, both returned (a pre-norm transformer carries `h`
//! on and normalises it for the next sublayer).

use std::sync::LazyLock;

use mlx_rs::{Array, Dtype, fast};

use super::layer_norm::{affine_grads, input_grad, row_launch};
use super::{BLOCK_SUM, Route, VjpCache, filled, rows};
use crate::error::Result;
use crate::kernel::{Kernel, custom_vjp};

/// Forward: the layer-norm kernel's layout, reading `x + r` (rounded to
/// `T` first, as the separate add stores it, so the statistics are those
/// of the stored sum) and writing the sum as well.
const FORWARD: &str = r#"
  __shared__ float partial[32];
  const size_t row = blockIdx.x;
  const int t = threadIdx.x;
  const T* xr = x + row * N;
  const T* rr = r + row * N;
  T* hr = h + row * N;
  float v[PER];
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    const int j = t + i * BLOCK;
    if (j < N) {
      const T stored = static_cast<T>(static_cast<float>(xr[j]) + static_cast<float>(rr[j]));
      hr[j] = stored;
      v[i] = static_cast<float>(stored);
    } else {
      v[i] = 0.0f;
    }
    sum += v[i];
  }
  const float mu = mithril_block_sum<BLOCK>(sum, partial) / N;
  float squares = 0.0f;
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    const int j = t + i * BLOCK;
    const float d = j < N ? v[i] - mu : 0.0f;
    squares += d * d;
  }
  const float var = mithril_block_sum<BLOCK>(squares, partial) / N;
  const float rs = rsqrtf(var + __int_as_float(EPS_BITS));
  T* yr = y + row * N;
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    const int j = t + i * BLOCK;
    if (j < N) {
      const float normed = (v[i] - mu) * rs;
      yr[j] = static_cast<T>(normed * static_cast<float>(w[j]) + static_cast<float>(b[j]));
    }
  }
  if (t == 0) {
    mean[row] = mu;
    rstd[row] = rs;
  }
"#;

static FORWARD_KERNEL: LazyLock<Kernel> = LazyLock::new(|| {
    Kernel::cuda(
        "mithril_add_layer_norm",
        &["x", "r", "w", "b"],
        &["h", "y", "mean", "rstd"],
        FORWARD,
    )
    .header(BLOCK_SUM)
});

static VJPS: VjpCache = VjpCache::new();

/// `(h, layer_norm(h))` with `h = x + residual`, the layer norm over the
/// last axis as in [`layer_norm`](super::layer_norm). On MLX's CUDA build
/// on the GPU ([`Route::Kernel`], or [`Route::Auto`] with `MITHRIL_FUSED_KERNELS=1`) one kernel computes both (and the backward
/// is the layer norm's kernel plus the sum's cotangent); elsewhere
/// `x + residual` and `mx.fast.layer_norm`. `x` and `residual` have one
/// shape.
///
/// ```
/// use mithril_mlx::kernel::{Route, add_layer_norm};
/// use mithril_mlx::mlx_rs::{Array, fast};
/// let x = Array::from_slice(&[1.0f32, 2.0, 4.0, 8.0], &[2, 2]);
/// let (h, y) = add_layer_norm(&x, &x, None, None, 1e-5, Route::Auto)?;
/// assert_eq!(h.as_slice::<f32>(), &[2.0, 4.0, 8.0, 16.0]);
/// let expected = fast::layer_norm(&h, None, None, 1e-5)?;
/// assert_eq!(y.as_slice::<f32>(), expected.as_slice::<f32>()); // on the CPU
/// # Ok::<(), mithril_mlx::Error>(())
/// ```
pub fn add_layer_norm(
    x: &Array,
    residual: &Array,
    weight: Option<&Array>,
    bias: Option<&Array>,
    eps: f32,
    route: Route,
) -> Result<(Array, Array)> {
    let (rows, n) = rows(x);
    let dtypes: Vec<Dtype> = [Some(x), Some(residual), weight, bias]
        .into_iter()
        .flatten()
        .map(Array::dtype)
        .collect();
    let same_shape = x.shape() == residual.shape();
    if !same_shape || !route.kernels("mithril_add_layer_norm", &dtypes, rows, n)? {
        if route == Route::Kernel && !same_shape {
            return Err(crate::kernel::KernelError::Launch {
                kernel: "mithril_add_layer_norm".into(),
                what: "residual",
                expected: format!("the shape of x, {:?}", x.shape()),
                found: format!("{:?}", residual.shape()),
            }
            .into());
        }
        let h = x.add(residual)?;
        let y = fast::layer_norm(&h, weight, bias, eps)?;
        return Ok((h, y));
    }
    let w = weight.map_or_else(|| filled(1.0, n, x.dtype()), |w| Ok(w.clone()))?;
    let b = bias.map_or_else(|| filled(0.0, n, x.dtype()), |b| Ok(b.clone()))?;
    let vjp = VJPS.get(eps.to_bits(), || {
        custom_vjp(
            move |i| {
                let (rows, dtype) = (i[0].shape()[0], i[0].dtype());
                let launch = row_launch(&i[0])
                    .template("EPS_BITS", eps.to_bits() as i32)
                    .output(i[0].shape(), dtype)
                    .output(i[0].shape(), dtype)
                    .output(&[rows], Dtype::Float32)
                    .output(&[rows], Dtype::Float32);
                FORWARD_KERNEL.apply(&[&i[0], &i[1], &i[2], &i[3]], &launch)
            },
            |v| {
                let (w, b) = (&v.primals[2], &v.primals[3]);
                let (h, mean, rstd) = (&v.outputs[0], &v.outputs[2], &v.outputs[3]);
                let dtype = h.dtype();
                let dh = v.cotangents[0].as_dtype(dtype)?;
                let dy = v.cotangents[1].as_dtype(dtype)?;
                // Through the norm, then the sum's own cotangent: both
                // inputs of the add get the total.
                let dsum = input_grad(h, w, &dy, mean, rstd)?.add(&dh)?;
                let (dw, db) = affine_grads(h, &dy, mean, rstd)?;
                Ok(vec![
                    dsum.clone(),
                    dsum,
                    dw.as_dtype(w.dtype())?,
                    db.as_dtype(b.dtype())?,
                ])
            },
        )
    })?;
    let shape = [rows as i32, n as i32];
    let (x2, r2) = (x.reshape(&shape)?, residual.reshape(&shape)?);
    let mut out = vjp.apply(&[&x2, &r2, &w, &b])?;
    let y = out.remove(1).reshape(x.shape())?;
    let h = out.remove(0).reshape(x.shape())?;
    Ok((h, y))
}

//! Layer norm over the last axis: a CUDA kernel forward (one block per
//! row) and a CUDA kernel for the input's gradient, against
//! `mx.fast.layer_norm`.

use std::sync::LazyLock;

use mlx_rs::{Array, Dtype, fast};

use super::{BLOCK_SUM, Route, VjpCache, filled, row_block, rows};
use crate::error::Result;
use crate::kernel::{Kernel, Launch, custom_vjp};

/// Forward: one block of `BLOCK` threads per row of `N` elements. Thread
/// `t` keeps the elements `t, t + BLOCK, ..` (`PER` of them) in registers,
/// in f32; the mean, then the variance from the deviations (two passes
/// over the registers, as steady as MLX's), then the normalised row. The
/// row's mean and 1 / sqrt(var + eps) go out too, for the backward. `eps`
/// is `EPS_BITS`, its f32 bits.
const FORWARD: &str = r#"
  __shared__ float partial[32];
  const size_t row = blockIdx.x;
  const int t = threadIdx.x;
  const T* xr = x + row * N;
  float v[PER];
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    const int j = t + i * BLOCK;
    v[i] = j < N ? static_cast<float>(xr[j]) : 0.0f;
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

/// Backward, the input's gradient: with `xh = (x - mean) * rstd` and
/// `g = dy * w`, `dx = rstd * (g - mean(g) - xh * mean(g * xh))`, the two
/// means per row as block sums; same layout as the forward.
const BACKWARD: &str = r#"
  __shared__ float partial[32];
  const size_t row = blockIdx.x;
  const int t = threadIdx.x;
  const float mu = mean[row];
  const float rs = rstd[row];
  const T* xr = x + row * N;
  const T* dyr = dy + row * N;
  float xh[PER];
  float g[PER];
  float sum_g = 0.0f;
  float sum_gx = 0.0f;
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    const int j = t + i * BLOCK;
    if (j < N) {
      xh[i] = (static_cast<float>(xr[j]) - mu) * rs;
      g[i] = static_cast<float>(dyr[j]) * static_cast<float>(w[j]);
    } else {
      xh[i] = 0.0f;
      g[i] = 0.0f;
    }
    sum_g += g[i];
    sum_gx += g[i] * xh[i];
  }
  const float mean_g = mithril_block_sum<BLOCK>(sum_g, partial) / N;
  const float mean_gx = mithril_block_sum<BLOCK>(sum_gx, partial) / N;
  T* dxr = dx + row * N;
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    const int j = t + i * BLOCK;
    if (j < N) {
      dxr[j] = static_cast<T>(rs * (g[i] - mean_g - xh[i] * mean_gx));
    }
  }
"#;

static FORWARD_KERNEL: LazyLock<Kernel> = LazyLock::new(|| {
    Kernel::cuda(
        "mithril_layer_norm",
        &["x", "w", "b"],
        &["y", "mean", "rstd"],
        FORWARD,
    )
    .header(BLOCK_SUM)
});

static BACKWARD_KERNEL: LazyLock<Kernel> = LazyLock::new(|| {
    Kernel::cuda(
        "mithril_layer_norm_vjp",
        &["x", "w", "dy", "mean", "rstd"],
        &["dx"],
        BACKWARD,
    )
    .header(BLOCK_SUM)
});

/// The launch of a row kernel over `x` (`rows` x `n`): one block per row.
pub(super) fn row_launch(x: &Array) -> Launch {
    let (rows, n) = rows(x);
    let (block, per) = row_block(n);
    Launch::new([rows * block, 1, 1], [block, 1, 1])
        .template("T", x.dtype())
        .template("N", n as i32)
        .template("BLOCK", block as i32)
        .template("PER", per as i32)
}

/// The forward kernel on rows `x`: `[y, mean, rstd]`.
pub(super) fn forward(x: &Array, w: &Array, b: &Array, eps: f32) -> Result<Vec<Array>> {
    let rows = x.shape()[0];
    let launch = row_launch(x)
        .template("EPS_BITS", eps.to_bits() as i32)
        .output(x.shape(), x.dtype())
        .output(&[rows], Dtype::Float32)
        .output(&[rows], Dtype::Float32);
    FORWARD_KERNEL.apply(&[x, w, b], &launch)
}

/// The backward kernel: the gradient of rows `x`, given the forward's
/// statistics and `dy` (of `x`'s dtype).
pub(super) fn input_grad(
    x: &Array,
    w: &Array,
    dy: &Array,
    mean: &Array,
    rstd: &Array,
) -> Result<Array> {
    let launch = row_launch(x).output(x.shape(), x.dtype());
    Ok(BACKWARD_KERNEL
        .apply(&[x, w, dy, mean, rstd], &launch)?
        .remove(0))
}

/// The weight's and bias's gradients, column sums in MLX operations (f32):
/// `sum(dy * (x - mean) * rstd)` and `sum(dy)` over the rows.
pub(super) fn affine_grads(
    x: &Array,
    dy: &Array,
    mean: &Array,
    rstd: &Array,
) -> Result<(Array, Array)> {
    let column = [-1, 1];
    let dy = dy.as_dtype(Dtype::Float32)?;
    let xh = x
        .as_dtype(Dtype::Float32)?
        .subtract(mean.reshape(&column)?)?
        .multiply(rstd.reshape(&column)?)?;
    Ok((
        dy.multiply(&xh)?.sum_axis(0, false)?,
        dy.sum_axis(0, false)?,
    ))
}

static VJPS: VjpCache = VjpCache::new();

/// Layer norm over the last axis, as `mx.fast.layer_norm(x, weight, bias,
/// eps)`: on MLX's CUDA build on the GPU ([`Route::Auto`] with
/// `MITHRIL_FUSED_KERNELS=1`, or [`Route::Kernel`]), a fused CUDA
/// kernel with a CUDA kernel for the input's gradient (the weight's and
/// bias's are column sums in MLX operations); elsewhere
/// `mx.fast.layer_norm` itself.
///
/// ```
/// use mithril_mlx::kernel::{Route, layer_norm};
/// use mithril_mlx::mlx_rs::{Array, fast};
/// let x = Array::from_slice(&[1.0f32, 2.0, 4.0, 8.0], &[2, 2]);
/// let y = layer_norm(&x, None, None, 1e-5, Route::Auto)?;
/// let expected = fast::layer_norm(&x, None, None, 1e-5)?;
/// assert_eq!(y.as_slice::<f32>(), expected.as_slice::<f32>()); // on the CPU
/// # Ok::<(), mithril_mlx::Error>(())
/// ```
pub fn layer_norm(
    x: &Array,
    weight: Option<&Array>,
    bias: Option<&Array>,
    eps: f32,
    route: Route,
) -> Result<Array> {
    let (rows, n) = rows(x);
    let dtypes: Vec<Dtype> = [Some(x), weight, bias]
        .into_iter()
        .flatten()
        .map(Array::dtype)
        .collect();
    if !route.kernels("mithril_layer_norm", &dtypes, rows, n)? {
        return Ok(fast::layer_norm(x, weight, bias, eps)?);
    }
    let w = weight.map_or_else(|| filled(1.0, n, x.dtype()), |w| Ok(w.clone()))?;
    let b = bias.map_or_else(|| filled(0.0, n, x.dtype()), |b| Ok(b.clone()))?;
    let vjp = VJPS.get(eps.to_bits(), || {
        custom_vjp(
            move |i| forward(&i[0], &i[1], &i[2], eps),
            |v| {
                let (x, w, b) = (&v.primals[0], &v.primals[1], &v.primals[2]);
                let (mean, rstd) = (&v.outputs[1], &v.outputs[2]);
                let dy = v.cotangents[0].as_dtype(x.dtype())?;
                let dx = input_grad(x, w, &dy, mean, rstd)?;
                let (dw, db) = affine_grads(x, &dy, mean, rstd)?;
                Ok(vec![dx, dw.as_dtype(w.dtype())?, db.as_dtype(b.dtype())?])
            },
        )
    })?;
    let x2 = x.reshape(&[rows as i32, n as i32])?;
    let y = vjp.apply(&[&x2, &w, &b])?.remove(0);
    Ok(y.reshape(x.shape())?)
}

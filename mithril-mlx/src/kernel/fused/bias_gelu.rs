//! A bias add and the tanh GELU after it (GPT-2's MLP), one element-wise
//! kernel each way.

use std::sync::LazyLock;

use mlx_rs::{Array, Dtype};

use super::{Route, VjpCache, rows};
use crate::error::Result;
use crate::kernel::{Kernel, Launch, custom_vjp};
use crate::lower::gelu_approx;

/// `u = x + b` (`b` along the rows) and its GELU, the tanh approximation
/// (mlx.nn.gelu_approx), in f32: one thread per element. `x_shape[0]` is
/// the number of rows (the launch may have threads to spare).
const HEADER: &str = r#"
// sqrt(2 / pi) and GELU's cubic coefficient.
#define MITHRIL_GELU_K 0.7978845608028654f
#define MITHRIL_GELU_A 0.044715f
"#;

const FORWARD: &str = r#"
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= size_t(x_shape[0]) * N) {
    return;
  }
  const float u = static_cast<float>(x[i]) + static_cast<float>(b[i % N]);
  const float t = tanhf(MITHRIL_GELU_K * (u + MITHRIL_GELU_A * u * u * u));
  y[i] = static_cast<T>(0.5f * u * (1.0f + t));
"#;

/// d gelu / du = (1 + t) / 2 + u (1 - t^2) k (1 + 3 a u^2) / 2, times `dy`.
const BACKWARD: &str = r#"
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= size_t(x_shape[0]) * N) {
    return;
  }
  const float u = static_cast<float>(x[i]) + static_cast<float>(b[i % N]);
  const float t = tanhf(MITHRIL_GELU_K * (u + MITHRIL_GELU_A * u * u * u));
  const float d = 0.5f * (1.0f + t)
      + 0.5f * u * (1.0f - t * t) * MITHRIL_GELU_K * (1.0f + 3.0f * MITHRIL_GELU_A * u * u);
  dx[i] = static_cast<T>(static_cast<float>(dy[i]) * d);
"#;

static FORWARD_KERNEL: LazyLock<Kernel> = LazyLock::new(|| {
    Kernel::cuda("mithril_bias_gelu", &["x", "b"], &["y"], FORWARD).header(HEADER)
});

static BACKWARD_KERNEL: LazyLock<Kernel> = LazyLock::new(|| {
    Kernel::cuda(
        "mithril_bias_gelu_vjp",
        &["x", "b", "dy"],
        &["dx"],
        BACKWARD,
    )
    .header(HEADER)
});

/// One thread per element of rows `x`, 256 a block.
fn launch(x: &Array) -> Launch {
    let (_, n) = rows(x);
    Launch::new([x.size(), 1, 1], [256, 1, 1])
        .template("T", x.dtype())
        .template("N", n as i32)
        .output(x.shape(), x.dtype())
}

static VJPS: VjpCache = VjpCache::new();

/// `gelu_approx(x + bias)` (mlx.nn.gelu_approx, the tanh form GPT-2 uses)
/// with `bias` along the last axis. On MLX's CUDA build on the GPU
/// ([`Route::Kernel`], or [`Route::Auto`] with `MITHRIL_FUSED_KERNELS=1`) one element-wise kernel each way (the bias's gradient
/// is a column sum in MLX operations); elsewhere the MLX operations of the
/// `GeluApprox` layer after the add.
///
/// ```
/// use mithril_mlx::kernel::{Route, bias_gelu};
/// use mithril_mlx::mlx_rs::Array;
/// let x = Array::from_slice(&[-1.0f32, 0.0, 1.0, 2.0], &[2, 2]);
/// let b = Array::from_slice(&[0.0f32, 1.0], &[2]);
/// let y = bias_gelu(&x, &b, Route::Auto)?;
/// assert!((y.as_slice::<f32>()[1] - 0.8412).abs() < 1e-3); // gelu(1)
/// # Ok::<(), mithril_mlx::Error>(())
/// ```
pub fn bias_gelu(x: &Array, bias: &Array, route: Route) -> Result<Array> {
    let (rows, n) = rows(x);
    let fits = bias.shape() == [n as i32];
    if !fits || !route.kernels("mithril_bias_gelu", &[x.dtype(), bias.dtype()], rows, n)? {
        if route == Route::Kernel && !fits {
            return Err(crate::kernel::KernelError::Launch {
                kernel: "mithril_bias_gelu".into(),
                what: "bias",
                expected: format!("shape [{n}], the last axis of x"),
                found: format!("{:?}", bias.shape()),
            }
            .into());
        }
        return Ok(gelu_approx(&x.add(bias)?)?);
    }
    let vjp = VJPS.get(0, || {
        custom_vjp(
            |i| FORWARD_KERNEL.apply(&[&i[0], &i[1]], &launch(&i[0])),
            |v| {
                let (x, b) = (&v.primals[0], &v.primals[1]);
                let dy = v.cotangents[0].as_dtype(x.dtype())?;
                let dx = BACKWARD_KERNEL.apply(&[x, b, &dy], &launch(x))?.remove(0);
                let db = dx
                    .as_dtype(Dtype::Float32)?
                    .sum_axis(0, false)?
                    .as_dtype(b.dtype())?;
                Ok(vec![dx, db])
            },
        )
    })?;
    let x2 = x.reshape(&[rows as i32, n as i32])?;
    Ok(vjp.apply(&[&x2, bias])?.remove(0).reshape(x.shape())?)
}

//! Fused operations for transformers, each a CUDA kernel pair (forward and
//! backward, through [`custom_vjp`](super::custom_vjp)) with the MLX
//! operations it replaces as the fallback.

mod add_layer_norm;
mod bias_gelu;
mod layer_norm;

use std::sync::{Arc, Mutex};

use mlx_rs::{Array, Dtype};

use super::{Backend, CustomVjp, KernelError};
use crate::error::Result;

pub use add_layer_norm::add_layer_norm;
pub use bias_gelu::bias_gelu;
pub use layer_norm::layer_norm;

/// Which implementation a fused operation runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Route {
    /// The kernels where they can run (MLX's CUDA build, on the GPU, for
    /// f32, f16 and bf16 arrays of one dtype) when the environment variable
    /// `MITHRIL_FUSED_KERNELS` is `1`, the MLX operations
    /// elsewhere.
    #[default]
    Auto,
    /// The kernels; [`KernelError::Unavailable`] where they cannot run.
    Kernel,
    /// The MLX operations the kernels replace.
    Ops,
}

impl Route {
    /// Whether to run the kernels for arrays of `dtypes` whose rows are
    /// `rows` x `n` elements; an error for [`Route::Kernel`] where they
    /// cannot run.
    fn kernels(self, name: &str, dtypes: &[Dtype], rows: usize, n: usize) -> Result<bool> {
        let runs = || {
            let dtype = dtypes[0];
            let fits = matches!(dtype, Dtype::Float32 | Dtype::Float16 | Dtype::Bfloat16)
                && dtypes.iter().all(|&d| d == dtype)
                && rows > 0
                && n > 0
                && rows.checked_mul(n).is_some_and(|s| s <= i32::MAX as usize);
            if fits {
                None
            } else {
                Some(format!(
                    "arrays of dtypes {dtypes:?}, {rows} rows of {n}: the kernels take f32, f16 or bf16 arrays of one dtype, fewer than 2^31 elements"
                ))
            }
        };
        match self {
            Route::Ops => Ok(false),
            Route::Auto => Ok(kernels_allowed() && Backend::Cuda.runs_here() && runs().is_none()),
            Route::Kernel => {
                if let Some(reason) = Backend::Cuda.refusal().or_else(runs) {
                    return Err(KernelError::Unavailable {
                        kernel: name.to_string(),
                        backend: Backend::Cuda,
                        reason,
                    }
                    .into());
                }
                Ok(true)
            }
        }
    }
}

/// Whether [`Route::Auto`] may pick the kernels: only where
/// `MITHRIL_FUSED_KERNELS=1` (read once). Measured on an H100, GPT-2
/// small's training step is faster with MLX's own layer norm (docs/gpu.md,
/// "Custom kernels"), so the kernels are opt-in.
fn kernels_allowed() -> bool {
    static ALLOWED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ALLOWED.get_or_init(|| std::env::var("MITHRIL_FUSED_KERNELS").is_ok_and(|v| v == "1"))
}

/// Threads per row and elements per thread for rows of `n`: about four
/// elements a thread, a whole number of warps, at most 1,024 threads.
fn row_block(n: usize) -> (usize, usize) {
    let block = n.div_ceil(4).next_multiple_of(32).clamp(32, 1024);
    (block, n.div_ceil(block))
}

/// `x`'s rows (every axis but the last, flattened) and their length.
fn rows(x: &Array) -> (usize, usize) {
    let n = x.shape().last().map_or(1, |&d| d.max(0) as usize);
    (x.size().checked_div(n).unwrap_or(0), n)
}

/// The block-wide sum the row kernels share (CUDA), placed before each
/// kernel: in f32, within each warp by shuffles, then across the block's
/// warps through 32 floats of shared memory. `BLOCK` is a multiple of 32
/// and at most 1,024, so there are at most 32 warps.
const BLOCK_SUM: &str = r#"
template <int BLOCK>
__device__ __forceinline__ float mithril_block_sum(float v, float* partial) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    v += __shfl_xor_sync(0xffffffff, v, offset);
  }
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (lane == 0) {
    partial[warp] = v;
  }
  __syncthreads();
  // Every warp adds the per-warp sums, so every thread gets the total.
  v = lane < BLOCK / 32 ? partial[lane] : 0.0f;
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    v += __shfl_xor_sync(0xffffffff, v, offset);
  }
  // `partial` is written again by the next sum.
  __syncthreads();
  return v;
}
"#;

/// A cache of custom VJPs by a key (`eps`'s bits): each is built once.
struct VjpCache(Mutex<Vec<(u32, Arc<CustomVjp>)>>);

impl VjpCache {
    const fn new() -> VjpCache {
        VjpCache(Mutex::new(Vec::new()))
    }

    fn get(&self, key: u32, make: impl FnOnce() -> Result<CustomVjp>) -> Result<Arc<CustomVjp>> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, v)) = map.iter().find(|(k, _)| *k == key) {
            return Ok(v.clone());
        }
        let v = Arc::new(make()?);
        map.push((key, v.clone()));
        Ok(v)
    }
}

/// `value` as an f32 array of `like`'s dtype.
fn filled(value: f32, n: usize, dtype: Dtype) -> Result<Array> {
    Ok(Array::full::<f32>(&[n as i32], Array::from_f32(value))?.as_dtype(dtype)?)
}

#[cfg(test)]
pub(super) fn row_block_for_tests(n: usize) -> (usize, usize) {
    row_block(n)
}

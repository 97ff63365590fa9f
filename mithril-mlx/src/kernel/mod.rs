//! Custom GPU kernels: MLX's `mx.fast.cuda_kernel` (and
//! `mx.fast.metal_kernel` on macOS) as a safe API, custom VJPs, and the
//! fused operations built on them.
//!
//! - [`Kernel`]: a kernel's source (its body; MLX writes the signature from
//!   the input and output names) and [`Launch`]: one launch's grid, thread
//!   group, outputs and compile-time arguments. A kernel is built once, on
//!   its first launch, and reused.
//! - [`custom_vjp`]: a function of arrays whose gradient is another
//!   function (a second kernel, or MLX operations).
//! - [`KernelOp`]: both together with a fallback in MLX operations, for
//!   `Lambda` layers of `model!`: the kernel where it can run (a CUDA
//!   kernel on the CUDA build's GPU), the fallback elsewhere.
//! - [`layer_norm`], [`add_layer_norm`], [`bias_gelu`]: fused operations
//!   for transformers; `LayerNorm` lowers through [`layer_norm`].
//!
//! A kernel cannot run on the CPU, nor on a build of MLX without its GPU
//! backend: launching one there is [`KernelError::Unavailable`], never a
//! crash. [`Backend::runs_here`] says beforehand.
//!
//! mlx-rs 0.33 has no API for MLX's custom kernels or custom VJPs, so the
//! raw calls live in `sys`; what this module exports is safe.

mod fused;
mod launch;
mod op;
mod source;
mod vjp;

use std::sync::OnceLock;

use mlx_rs::Stream;

pub use fused::{Route, add_layer_norm, bias_gelu, layer_norm};
pub use launch::{Launch, TemplateArg};
pub use op::KernelOp;
pub use source::Kernel;
pub use vjp::{CustomVjp, Vjp, custom_vjp};

/// The GPU backends MLX compiles custom kernels for; a kernel's source is
/// written for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// CUDA C++ (`mx.fast.cuda_kernel`), MLX's CUDA build on NVIDIA GPUs.
    Cuda,
    /// Metal Shading Language (`mx.fast.metal_kernel`), Apple silicon.
    Metal,
}

impl Backend {
    /// Whether the MLX library loaded at run time has this backend.
    pub fn available(self) -> bool {
        match self {
            Backend::Cuda => {
                static CUDA: OnceLock<bool> = OnceLock::new();
                *CUDA.get_or_init(crate::sys::cuda_available)
            }
            Backend::Metal => cfg!(target_os = "macos") && crate::gpu_available(),
        }
    }

    /// Whether a kernel for this backend runs on this thread's default
    /// stream: the backend is [available](Backend::available) and the
    /// stream is on the GPU (the backend's device, `Device::Gpu` or
    /// `Device::Auto` with a GPU).
    pub fn runs_here(self) -> bool {
        self.available() && crate::sys::stream_on_gpu(&Stream::thread_local_or_default())
    }

    /// Why a kernel for this backend cannot run here, if it cannot.
    fn refusal(self) -> Option<String> {
        if !self.available() {
            return Some(match self {
                Backend::Cuda => "the loaded MLX library has no CUDA backend (the CPU build); \
                                  run with MLX's CUDA build (docs/gpu.md)"
                    .into(),
                Backend::Metal => "the loaded MLX library has no Metal GPU".into(),
            });
        }
        if !crate::sys::stream_on_gpu(&Stream::thread_local_or_default()) {
            return Some("the default stream is on the CPU; kernels run on the GPU only".into());
        }
        None
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Cuda => "CUDA",
            Backend::Metal => "Metal",
        })
    }
}

/// What can go wrong with a custom kernel or a custom VJP.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KernelError {
    /// A kernel launched where its backend cannot run it.
    #[error("kernel `{kernel}`: a {backend} kernel cannot run here: {reason}")]
    Unavailable {
        /// The kernel's name.
        kernel: String,
        /// The backend it is written for.
        backend: Backend,
        /// Why not.
        reason: String,
    },
    /// A name, source or header MLX cannot take.
    #[error("kernel `{kernel}`: {what}: expected {expected}, found `{found}`")]
    Invalid {
        /// The kernel's name.
        kernel: String,
        /// What was given (`input name`, `source`).
        what: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What was given (shortened).
        found: String,
    },
    /// A launch that does not fit the kernel (arrays, outputs, sizes).
    #[error("kernel `{kernel}`: {what}: expected {expected}, found {found}")]
    Launch {
        /// The kernel's name.
        kernel: String,
        /// What does not fit (`inputs`, `outputs`, `grid`).
        what: &'static str,
        /// What the kernel needs.
        expected: String,
        /// What was given.
        found: String,
    },
    /// MLX refused to build or launch the kernel (its compiler's message
    /// for a source that does not compile).
    #[error("kernel `{kernel}`: {message}")]
    Mlx {
        /// The kernel's name.
        kernel: String,
        /// MLX's message.
        message: String,
    },
    /// A custom VJP's backward function whose result does not fit the
    /// forward function's inputs.
    #[error("custom VJP: cotangent {index}: expected {expected}, found {found}")]
    Cotangent {
        /// Which input (from 0), or the count's place.
        index: usize,
        /// What fits.
        expected: String,
        /// What the backward function returned.
        found: String,
    },
}

#[cfg(test)]
mod tests;

//! [`KernelOp`]: a kernel with its fallback in MLX operations and its
//! backward, as one operation a `Lambda` layer can call.

use std::sync::{Arc, OnceLock};

use mlx_rs::Array;

use super::{Backend, CustomVjp, Vjp, custom_vjp};
use crate::error::Result;

/// A function of arrays.
type ArraysFn = dyn Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync;
/// A backward function.
type BackwardFn = dyn Fn(&Vjp<'_>) -> Result<Vec<Array>> + Send + Sync;

/// An operation computed by a custom kernel where its backend runs, and by
/// MLX operations (the fallback, which must compute the same function)
/// elsewhere: on the CPU, and on builds of MLX without that GPU backend.
///
/// - `forward`: the kernel path, typically one [`Kernel::apply`](super::Kernel::apply).
/// - `fallback`: the same function in MLX operations; MLX differentiates
///   it, so CPU runs (and CI) compute exactly what those operations do.
/// - `backward` (optional): the kernel path's VJP, a second kernel or MLX
///   operations. Without it the kernel path cannot be differentiated (MLX
///   has no gradient for a custom kernel).
///
/// A `Lambda` layer takes a plain function, so keep the operation in a
/// `static`:
///
/// ```
/// use std::sync::LazyLock;
/// use mithril_mlx::kernel::{Kernel, KernelOp, Launch};
/// use mithril_mlx::mlx_rs::{Array, error::Exception};
///
/// /// y = x * x, one thread per element.
/// static SQUARE_KERNEL: LazyLock<Kernel> = LazyLock::new(|| {
///     Kernel::cuda(
///         "square",
///         &["x"],
///         &["y"],
///         "const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
///          if (i < size_t(x_shape[0])) { y[i] = x[i] * x[i]; }",
///     )
/// });
///
/// static SQUARE: LazyLock<KernelOp> = LazyLock::new(|| {
///     KernelOp::cuda(
///         |x| {
///             let n = x[0].size();
///             let launch = Launch::new([n, 1, 1], [256, 1, 1]).output(x[0].shape(), x[0].dtype());
///             SQUARE_KERNEL.apply(&[&x[0]], &launch)
///         },
///         |x| Ok(vec![x[0].square()?]),
///     )
///     // d(x^2) = 2 x dy, in MLX operations (a second kernel works the same way).
///     .backward(|v| Ok(vec![v.cotangents[0].multiply(v.primals[0].multiply(Array::from_f32(2.0))?)?]))
/// });
///
/// /// What `Lambda(square, shape = same)` calls.
/// fn square(x: &Array) -> Result<Array, Exception> {
///     Ok(SQUARE.apply(&[x])?.remove(0))
/// }
///
/// let y = square(&Array::from_slice(&[3.0f32], &[1]))?;
/// assert_eq!(y.as_slice::<f32>(), &[9.0]);
/// # Ok::<(), Exception>(())
/// ```
pub struct KernelOp {
    backend: Backend,
    forward: Arc<ArraysFn>,
    fallback: Arc<ArraysFn>,
    backward: Option<Arc<BackwardFn>>,
    with_vjp: OnceLock<Result<CustomVjp, String>>,
}

impl std::fmt::Debug for KernelOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelOp")
            .field("backend", &self.backend)
            .field("backward", &self.backward.is_some())
            .finish_non_exhaustive()
    }
}

impl KernelOp {
    /// An operation whose kernel path (`forward`) launches CUDA kernels,
    /// with `fallback` in MLX operations.
    pub fn cuda<F, G>(forward: F, fallback: G) -> KernelOp
    where
        F: Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync + 'static,
        G: Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync + 'static,
    {
        KernelOp::new(Backend::Cuda, forward, fallback)
    }

    /// An operation whose kernel path launches kernels of `backend`.
    pub fn new<F, G>(backend: Backend, forward: F, fallback: G) -> KernelOp
    where
        F: Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync + 'static,
        G: Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync + 'static,
    {
        KernelOp {
            backend,
            forward: Arc::new(forward),
            fallback: Arc::new(fallback),
            backward: None,
            with_vjp: OnceLock::new(),
        }
    }

    /// The kernel path's VJP (see [`custom_vjp`]).
    pub fn backward<B>(mut self, backward: B) -> KernelOp
    where
        B: Fn(&Vjp<'_>) -> Result<Vec<Array>> + Send + Sync + 'static,
    {
        self.backward = Some(Arc::new(backward));
        self.with_vjp = OnceLock::new();
        self
    }

    /// Whether [`KernelOp::apply`] takes the kernel path on this thread's
    /// default stream.
    pub fn uses_kernel(&self) -> bool {
        self.backend.runs_here()
    }

    /// Runs the operation: the kernel path where its backend runs (through
    /// the backward function, if given), the fallback elsewhere.
    pub fn apply(&self, inputs: &[&Array]) -> Result<Vec<Array>> {
        if !self.uses_kernel() {
            return (self.fallback)(&owned(inputs));
        }
        let Some(backward) = &self.backward else {
            return (self.forward)(&owned(inputs));
        };
        let vjp = self.with_vjp.get_or_init(|| {
            let (forward, backward) = (self.forward.clone(), backward.clone());
            custom_vjp(move |x| forward(x), move |v| backward(v)).map_err(|e| e.to_string())
        });
        match vjp {
            Ok(vjp) => vjp.apply(inputs),
            Err(message) => Err(crate::Error::Mlx(mlx_rs::error::Exception::custom(
                message.clone(),
            ))),
        }
    }

    /// The fallback alone (MLX operations, on any device): the reference
    /// the kernel path is checked against.
    pub fn apply_fallback(&self, inputs: &[&Array]) -> Result<Vec<Array>> {
        (self.fallback)(&owned(inputs))
    }
}

fn owned(inputs: &[&Array]) -> Vec<Array> {
    inputs.iter().map(|&a| a.clone()).collect()
}

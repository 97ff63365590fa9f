//! [`Kernel`]: a custom kernel's source and names, built once and launched
//! many times.

use std::ffi::CString;
use std::sync::OnceLock;

use mlx_rs::{Array, Stream};

use super::{Backend, KernelError, Launch, TemplateArg};
use crate::error::Result;
use crate::sys::{RawLaunch, RawTemplateArg};

/// A custom GPU kernel: its name, the names of its inputs and outputs, its
/// source (the body of the kernel function: MLX generates the signature,
/// one pointer per input and output under these names, typed by the
/// arrays' dtypes, plus `NAME_shape`, `NAME_strides` and `NAME_ndim` for
/// each input the source mentions them for), and a header (helpers placed
/// before the kernel).
///
/// MLX compiles the kernel on its first launch for each set of
/// compile-time arguments and dtypes, and caches it. The handle MLX makes
/// of the description is built once, on the first launch, and reused:
/// keep a `Kernel` in a `static` (`LazyLock`) or a long-lived value.
///
/// ```
/// use mithril_mlx::kernel::{Backend, Kernel, KernelError, Launch};
/// use mithril_mlx::mlx_rs::{Array, Dtype};
///
/// // y = 2 x, one thread per element.
/// let double = Kernel::cuda(
///     "double",
///     &["x"],
///     &["y"],
///     "const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
///      if (i < SIZE) { y[i] = x[i] * 2.0f; }",
/// );
/// let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3]);
/// let launch = Launch::new([3, 1, 1], [256, 1, 1])
///     .output(&[3], Dtype::Float32)
///     .template("SIZE", 3);
/// match double.apply(&[&x], &launch) {
///     Ok(y) => assert_eq!(y[0].as_slice::<f32>(), &[2.0, 4.0, 6.0]),
///     // Without MLX's CUDA build (or on the CPU) the launch is refused.
///     Err(mithril_mlx::Error::Kernel(KernelError::Unavailable { .. })) => {
///         assert!(!Backend::Cuda.runs_here())
///     }
///     Err(e) => panic!("{e}"),
/// }
/// ```
pub struct Kernel {
    backend: Backend,
    name: String,
    input_names: Vec<String>,
    output_names: Vec<String>,
    source: String,
    header: String,
    ensure_row_contiguous: bool,
    shared_memory: usize,
    #[cfg_attr(not(target_os = "macos"), allow(dead_code))]
    atomic_outputs: bool,
    raw: OnceLock<std::result::Result<Raw, String>>,
}

/// MLX's handle of a built kernel.
enum Raw {
    Cuda(crate::sys::CudaKernel),
    #[cfg(target_os = "macos")]
    Metal(crate::sys::MetalKernel),
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel")
            .field("backend", &self.backend)
            .field("name", &self.name)
            .field("inputs", &self.input_names)
            .field("outputs", &self.output_names)
            .finish_non_exhaustive()
    }
}

impl Kernel {
    /// A CUDA kernel (`mx.fast.cuda_kernel`): `source` is CUDA C++, the
    /// body of a `__global__` function in namespace `mlx::core::cu`, with
    /// MLX's device utilities (`mlx/backend/cuda/device/utils.cuh`) and
    /// `cooperative_groups` (as `cg`) in scope.
    pub fn cuda(name: &str, inputs: &[&str], outputs: &[&str], source: &str) -> Kernel {
        Kernel::new(Backend::Cuda, name, inputs, outputs, source)
    }

    /// A Metal kernel (`mx.fast.metal_kernel`): `source` is the body of a
    /// Metal kernel function, with `thread_position_in_grid` and MLX's
    /// utilities (`elem_to_loc`) in scope.
    #[cfg(target_os = "macos")]
    pub fn metal(name: &str, inputs: &[&str], outputs: &[&str], source: &str) -> Kernel {
        Kernel::new(Backend::Metal, name, inputs, outputs, source)
    }

    fn new(
        backend: Backend,
        name: &str,
        inputs: &[&str],
        outputs: &[&str],
        source: &str,
    ) -> Kernel {
        Kernel {
            backend,
            name: name.to_string(),
            input_names: inputs.iter().map(|s| s.to_string()).collect(),
            output_names: outputs.iter().map(|s| s.to_string()).collect(),
            source: source.to_string(),
            header: String::new(),
            ensure_row_contiguous: true,
            shared_memory: 0,
            atomic_outputs: false,
            raw: OnceLock::new(),
        }
    }

    /// Helpers (device functions, includes) placed before the kernel.
    pub fn header(mut self, header: &str) -> Kernel {
        self.header = header.to_string();
        self
    }

    /// Whether MLX copies inputs that are not row-contiguous first (the
    /// default, so the source may index inputs as dense rows); with
    /// `false` the source reads `NAME_shape` and `NAME_strides`.
    pub fn ensure_row_contiguous(mut self, ensure: bool) -> Kernel {
        self.ensure_row_contiguous = ensure;
        self
    }

    /// Bytes of dynamic shared memory per block (CUDA; `extern __shared__`).
    pub fn shared_memory(mut self, bytes: usize) -> Kernel {
        self.shared_memory = bytes;
        self
    }

    /// Whether outputs are atomic (Metal's `atomic_outputs`).
    pub fn atomic_outputs(mut self, atomic: bool) -> Kernel {
        self.atomic_outputs = atomic;
        self
    }

    /// The backend the source is written for.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The kernel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Launches the kernel on `inputs` (in the order of its input names):
    /// its outputs, in the order of its output names.
    ///
    /// Errors: [`KernelError::Launch`] for inputs, outputs, grid or thread
    /// group that do not fit; [`KernelError::Invalid`] for names, source or
    /// header MLX cannot take; [`KernelError::Unavailable`] where the
    /// kernel's backend cannot run ([`Backend::runs_here`]);
    /// [`KernelError::Mlx`] for MLX's refusals (a source that does not
    /// compile surfaces when the outputs are evaluated, as MLX's error).
    pub fn apply(&self, inputs: &[&Array], launch: &Launch) -> Result<Vec<Array>> {
        self.check(inputs, launch)?;
        if let Some(reason) = self.backend.refusal() {
            return Err(KernelError::Unavailable {
                kernel: self.name.clone(),
                backend: self.backend,
                reason,
            }
            .into());
        }
        let raw = self
            .raw
            .get_or_init(|| self.build())
            .as_ref()
            .map_err(|message| KernelError::Mlx {
                kernel: self.name.clone(),
                message: message.clone(),
            })?;
        let names: Vec<CString> = launch
            .template
            .iter()
            .map(|(n, _)| CString::new(n.as_str()).unwrap_or_default())
            .collect();
        let raw_launch = raw_launch(launch, &names);
        let stream = Stream::thread_local_or_default();
        let out = match raw {
            Raw::Cuda(k) => k.apply(inputs, &raw_launch, &stream),
            #[cfg(target_os = "macos")]
            Raw::Metal(k) => k.apply(inputs, &raw_launch, &stream),
        };
        out.map_err(|message| {
            KernelError::Mlx {
                kernel: self.name.clone(),
                message,
            }
            .into()
        })
    }

    /// Everything about a launch that can be checked without MLX.
    fn check(&self, inputs: &[&Array], launch: &Launch) -> Result<(), KernelError> {
        let launch_error = |what, expected: String, found: String| KernelError::Launch {
            kernel: self.name.clone(),
            what,
            expected,
            found,
        };
        let invalid = |what, expected, found: &str| KernelError::Invalid {
            kernel: self.name.clone(),
            what,
            expected,
            found: found.chars().take(40).collect(),
        };
        for (what, names) in [
            ("input name", &self.input_names),
            ("output name", &self.output_names),
        ] {
            for n in names {
                if !is_identifier(n) {
                    return Err(invalid(what, "a C identifier", n));
                }
            }
        }
        if !is_identifier(&self.name) {
            return Err(invalid("name", "a C identifier", &self.name));
        }
        if self.output_names.is_empty() {
            return Err(invalid("output names", "at least one", ""));
        }
        for (what, text) in [("source", &self.source), ("header", &self.header)] {
            if text.contains('\0') {
                return Err(invalid(what, "text without NUL bytes", text));
            }
        }
        for (n, _) in &launch.template {
            if !is_identifier(n) {
                return Err(invalid("template argument", "a C identifier", n));
            }
        }
        if inputs.len() != self.input_names.len() {
            return Err(launch_error(
                "inputs",
                format!(
                    "{} ({})",
                    self.input_names.len(),
                    self.input_names.join(", ")
                ),
                inputs.len().to_string(),
            ));
        }
        if launch.outputs.len() != self.output_names.len() {
            return Err(launch_error(
                "outputs",
                format!(
                    "{} ({})",
                    self.output_names.len(),
                    self.output_names.join(", ")
                ),
                launch.outputs.len().to_string(),
            ));
        }
        for (what, dims) in [("grid", launch.grid), ("thread group", launch.thread_group)] {
            if dims.iter().any(|&d| d == 0 || d > i32::MAX as usize) {
                return Err(launch_error(
                    what,
                    "three sizes from 1 to 2^31 - 1".into(),
                    format!("{dims:?}"),
                ));
            }
        }
        for (shape, _) in &launch.outputs {
            if shape.iter().any(|&d| d < 0) {
                return Err(launch_error(
                    "output shape",
                    "sizes of 0 or more".into(),
                    format!("{shape:?}"),
                ));
            }
        }
        if self.shared_memory > i32::MAX as usize {
            return Err(launch_error(
                "shared memory",
                "at most 2^31 - 1 bytes".into(),
                self.shared_memory.to_string(),
            ));
        }
        Ok(())
    }

    /// MLX's handle for this description (after [`Kernel::check`]).
    fn build(&self) -> std::result::Result<Raw, String> {
        let c = |s: &str| CString::new(s).map_err(|_| format!("`{s}` holds a NUL byte"));
        let list = |names: &[String]| names.iter().map(|n| c(n)).collect::<Result<Vec<_>, _>>();
        let (name, source, header) = (c(&self.name)?, c(&self.source)?, c(&self.header)?);
        let (inputs, outputs) = (list(&self.input_names)?, list(&self.output_names)?);
        match self.backend {
            Backend::Cuda => crate::sys::CudaKernel::new(
                &name,
                &inputs,
                &outputs,
                &source,
                &header,
                self.ensure_row_contiguous,
                self.shared_memory as i32,
            )
            .map(Raw::Cuda),
            #[cfg(target_os = "macos")]
            Backend::Metal => crate::sys::MetalKernel::new(
                &name,
                &inputs,
                &outputs,
                &source,
                &header,
                self.ensure_row_contiguous,
                self.atomic_outputs,
            )
            .map(Raw::Metal),
            #[cfg(not(target_os = "macos"))]
            Backend::Metal => Err("Metal kernels are built on macOS only".into()),
        }
    }
}

/// Whether `s` can name a C++ variable or function.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `launch` as MLX's C API takes it; `names` are its template arguments'
/// names as C strings, in order.
pub(crate) fn raw_launch<'a>(launch: &'a Launch, names: &'a [CString]) -> RawLaunch<'a> {
    let three = |d: [usize; 3]| d.map(|v| v as i32);
    RawLaunch {
        grid: three(launch.grid),
        thread_group: three(launch.thread_group),
        outputs: &launch.outputs,
        template: launch
            .template
            .iter()
            .zip(names)
            .map(|((_, arg), name)| match *arg {
                TemplateArg::Dtype(d) => RawTemplateArg::Dtype(name, d),
                TemplateArg::Int(v) => RawTemplateArg::Int(name, v),
                TemplateArg::Bool(v) => RawTemplateArg::Bool(name, v),
            })
            .collect(),
        init_value: launch.init_value,
        verbose: launch.verbose,
    }
}

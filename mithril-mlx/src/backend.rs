//! [`MlxBackend`]: dtype, device, seed and graph mode, as Mithril's `MLXBackend`.

use std::fmt;

use mlx_rs::Dtype;

use crate::error::{Error, Result};

/// Floating-point types for parameters and activations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit float (the default).
    #[default]
    F32,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
}

impl DType {
    /// The MLX dtype.
    pub fn mlx(self) -> Dtype {
        match self {
            DType::F32 => Dtype::Float32,
            DType::F16 => Dtype::Float16,
            DType::BF16 => Dtype::Bfloat16,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
        })
    }
}

impl std::str::FromStr for DType {
    type Err = Error;

    fn from_str(s: &str) -> Result<DType> {
        match s.to_ascii_lowercase().as_str() {
            "f32" | "float32" => Ok(DType::F32),
            "f16" | "float16" => Ok(DType::F16),
            "bf16" | "bfloat16" => Ok(DType::BF16),
            _ => Err(Error::Config {
                option: "dtype",
                reason: format!("unknown dtype `{s}`; use f32, f16 or bf16"),
            }),
        }
    }
}

/// Where MLX runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Device {
    /// The CPU.
    Cpu,
    /// The GPU (Metal on Apple silicon).
    Gpu,
    /// The GPU where this MLX build has one, else the CPU.
    #[default]
    Auto,
}

/// The MLX backend: how models are initialised and run.
///
/// ```
/// use mithril_mlx::{DType, MlxBackend};
/// let backend = MlxBackend::builder().dtype(DType::F32).seed(42).graph_mode(true).build()?;
/// assert_eq!(backend.seed(), 42);
/// # Ok::<(), mithril_mlx::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MlxBackend {
    dtype: DType,
    device: Device,
    seed: u64,
    graph_mode: bool,
}

impl Default for MlxBackend {
    fn default() -> Self {
        MlxBackend {
            dtype: DType::F32,
            device: Device::Cpu,
            seed: 0,
            graph_mode: true,
        }
    }
}

impl MlxBackend {
    /// A backend with the defaults: f32, CPU or GPU as available, seed 0, graph mode on.
    pub fn new() -> Result<MlxBackend> {
        MlxBackend::builder().build()
    }

    /// Starts a configuration.
    pub fn builder() -> MlxBackendBuilder {
        MlxBackendBuilder {
            backend: MlxBackend {
                device: Device::Auto,
                ..MlxBackend::default()
            },
        }
    }

    /// The dtype of parameters and activations.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The device chosen.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The random seed for initialisation.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether steps run as compiled MLX graphs.
    pub fn graph_mode(&self) -> bool {
        self.graph_mode
    }

    /// Makes this backend's device MLX's default for the calling thread's work.
    pub(crate) fn activate(&self) {
        let device = match self.device {
            Device::Gpu => mlx_rs::Device::gpu(),
            _ => mlx_rs::Device::cpu(),
        };
        mlx_rs::Device::set_default(&device);
    }
}

/// Builds an [`MlxBackend`].
#[derive(Clone, Debug)]
pub struct MlxBackendBuilder {
    backend: MlxBackend,
}

impl MlxBackendBuilder {
    /// The dtype of parameters and activations (default f32).
    pub fn dtype(mut self, dtype: DType) -> Self {
        self.backend.dtype = dtype;
        self
    }

    /// The device (default: GPU where this MLX build has one, else CPU).
    pub fn device(mut self, device: Device) -> Self {
        self.backend.device = device;
        self
    }

    /// The seed for parameter initialisation (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.backend.seed = seed;
        self
    }

    /// Compiled graphs (default) or eager execution.
    pub fn graph_mode(mut self, on: bool) -> Self {
        self.backend.graph_mode = on;
        self
    }

    /// Checks the configuration.
    pub fn build(self) -> Result<MlxBackend> {
        let mut backend = self.backend;
        let gpu = gpu_available();
        backend.device = match backend.device {
            Device::Auto if gpu => Device::Gpu,
            Device::Auto | Device::Cpu => Device::Cpu,
            Device::Gpu if gpu => Device::Gpu,
            Device::Gpu => {
                return Err(Error::Config {
                    option: "device",
                    reason: "this MLX build has no GPU (the Linux CPU wheel); use Device::Cpu or the CUDA build".into(),
                });
            }
        };
        Ok(backend)
    }
}

/// Whether MLX has a GPU here.
pub fn gpu_available() -> bool {
    #[cfg(target_vendor = "apple")]
    {
        mlx_rs::metal::is_available()
    }
    #[cfg(not(target_vendor = "apple"))]
    {
        false
    }
}

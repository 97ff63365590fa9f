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
    param_dtype: Option<DType>,
    compute_precision: Option<DType>,
    device: Device,
    seed: u64,
    graph_mode: bool,
    memory_limit: Option<usize>,
    cache_limit: Option<usize>,
    verbose: bool,
    /// Draws taken by the tensor constructors, so each gets a fresh key.
    draws: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Default for MlxBackend {
    fn default() -> Self {
        MlxBackend {
            dtype: DType::F32,
            param_dtype: None,
            compute_precision: None,
            device: Device::Cpu,
            seed: 0,
            graph_mode: true,
            memory_limit: None,
            cache_limit: None,
            verbose: false,
            draws: Default::default(),
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
            errors: Vec::new(),
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

    /// The dtype softmax, norms and losses compute in, where it differs from [`Self::dtype`].
    pub fn compute_precision(&self) -> Option<DType> {
        self.compute_precision
    }

    /// The memory limit given to MLX, in bytes.
    pub fn memory_limit(&self) -> Option<usize> {
        self.memory_limit
    }

    /// Whether compiling prints the lowered graph.
    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// The dtype parameters are stored (and trained) in: [`Self::dtype`]
    /// unless master weights were asked for.
    pub fn param_dtype(&self) -> DType {
        self.param_dtype.unwrap_or(self.dtype)
    }

    /// How graphs run under this backend.
    pub fn run_options(&self, training: bool) -> crate::lower::RunOptions {
        crate::lower::RunOptions {
            accumulate: self.compute_precision.map(DType::mlx),
            training,
            // Parameters (master weights) and floating inputs are cast to the
            // backend's dtype on the way in, so activations always run in it.
            compute: Some(self.dtype.mlx()),
        }
    }

    /// A fresh random key for the next draw of [`Self::randn`] and friends.
    pub(crate) fn next_key(&self) -> Result<mlx_rs::Array> {
        let draw = self
            .draws
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Seed-derived keys distinct per draw; initialisation uses `seed` itself.
        Ok(mlx_rs::random::key(
            self.seed ^ (draw.wrapping_add(1)).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        )?)
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
#[derive(Debug)]
pub struct MlxBackendBuilder {
    backend: MlxBackend,
    errors: Vec<Error>,
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

    /// Mixed precision: keep parameters (and the optimizer's updates) in
    /// this dtype, usually f32, while activations use [`Self::dtype`]; the
    /// forward casts the parameters on the way in.
    pub fn master_weights(mut self, dtype: DType) -> Self {
        self.backend.param_dtype = Some(dtype);
        self
    }

    /// Where the dtype is f16 or bf16, compute softmax, norms and losses in
    /// this dtype (e.g. f32 accumulation) and cast back.
    pub fn compute_precision(mut self, dtype: DType) -> Self {
        self.backend.compute_precision = Some(dtype);
        self
    }

    /// A limit on MLX's memory: bytes, or a string such as `"4GB"` or `"512MiB"`.
    pub fn memory_limit(mut self, limit: impl Into<ByteSize>) -> Self {
        match limit.into().resolve("memory_limit") {
            Ok(bytes) => self.backend.memory_limit = Some(bytes),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// A limit on MLX's buffer cache: bytes or a string such as `"1GB"` (`0` frees buffers at once).
    pub fn cache_limit(mut self, limit: impl Into<ByteSize>) -> Self {
        match limit.into().resolve("cache_limit") {
            Ok(bytes) => self.backend.cache_limit = Some(bytes),
            Err(e) => self.errors.push(e),
        }
        self
    }

    /// Print each model's lowered graph and summary when it is compiled.
    pub fn verbose(mut self, on: bool) -> Self {
        self.backend.verbose = on;
        self
    }

    /// Mithril's `use_ane`: refused, MLX has no Neural Engine path.
    pub fn use_ane(mut self, on: bool) -> Self {
        if on {
            self.errors.push(Error::Config {
                option: "use_ane",
                reason:
                    "MLX has no Apple Neural Engine backend; it runs on the CPU and the GPU only"
                        .into(),
            });
        }
        self
    }

    /// Mithril's `enable_mps_optimization`: refused, MLX uses Metal on Apple
    /// silicon by itself (MPS is PyTorch's path).
    pub fn enable_mps_optimization(mut self, on: bool) -> Self {
        if on {
            self.errors.push(Error::Config {
                option: "enable_mps_optimization",
                reason: "MLX uses Metal directly and automatically on Apple silicon; there is no MPS switch".into(),
            });
        }
        self
    }

    /// Checks the configuration and applies the memory settings to MLX.
    pub fn build(mut self) -> Result<MlxBackend> {
        if !self.errors.is_empty() {
            return Err(self.errors.swap_remove(0));
        }
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
        if let Some(limit) = backend.memory_limit {
            mlx_rs::memory::set_memory_limit(limit)?;
        }
        if let Some(limit) = backend.cache_limit {
            mlx_rs::memory::set_cache_limit(limit)?;
        }
        Ok(backend)
    }
}

/// A size in bytes: a number, or a string with a unit (`"4GB"`, `"512MiB"`, `"1.5 GB"`).
#[derive(Clone, Debug, PartialEq)]
pub enum ByteSize {
    /// Bytes.
    Bytes(usize),
    /// Text to parse.
    Text(String),
}

impl From<usize> for ByteSize {
    fn from(n: usize) -> Self {
        ByteSize::Bytes(n)
    }
}

impl From<&str> for ByteSize {
    fn from(s: &str) -> Self {
        ByteSize::Text(s.to_string())
    }
}

impl From<String> for ByteSize {
    fn from(s: String) -> Self {
        ByteSize::Text(s)
    }
}

impl ByteSize {
    fn resolve(self, option: &'static str) -> Result<usize> {
        match self {
            ByteSize::Bytes(n) => Ok(n),
            ByteSize::Text(s) => parse_bytes(&s).ok_or_else(|| Error::Config {
                option,
                reason: format!("cannot read `{s}` as a size; write bytes or a number with B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"),
            }),
        }
    }
}

/// Parses `"4GB"`, `"512 MiB"`, `"1.5gb"`, `"1024"`.
pub fn parse_bytes(text: &str) -> Option<usize> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().ok()?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0f64.powi(4),
        _ => return None,
    };
    let bytes = value * scale;
    (bytes.is_finite() && bytes >= 0.0 && bytes < usize::MAX as f64 && bytes.fract() == 0.0)
        .then_some(bytes as usize)
}

/// MLX's memory figures (the guide's `get_memory_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryInfo {
    /// Bytes in live arrays.
    pub active: usize,
    /// The most `active` has been since start or the last reset.
    pub peak: usize,
    /// Bytes held in MLX's buffer cache.
    pub cache: usize,
    /// The memory limit.
    pub limit: usize,
}

impl MlxBackend {
    /// Active, peak and cached memory, and the limit.
    pub fn memory_info(&self) -> Result<MemoryInfo> {
        use mlx_rs::memory as m;
        Ok(MemoryInfo {
            active: m::active_memory()?,
            peak: m::peak_memory()?,
            cache: m::cache_memory()?,
            limit: m::memory_limit()?,
        })
    }

    /// Starts peak tracking afresh.
    pub fn reset_peak_memory(&self) -> Result<()> {
        Ok(mlx_rs::memory::reset_peak_memory()?)
    }

    /// Returns cached buffers to the system.
    pub fn clear_cache(&self) -> Result<()> {
        Ok(mlx_rs::memory::clear_cache()?)
    }
}

/// Whether the MLX library loaded at run time has a GPU: Metal on Apple
/// silicon, CUDA with the `mlx-cuda` build on Linux (chosen at run time, see
/// docs/gpu.md); the CPU wheel has none.
pub fn gpu_available() -> bool {
    runtime_info().gpu_count > 0
}

/// Which MLX this process runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// MLX's version string.
    pub mlx_version: String,
    /// `"cuda"`, `"metal"` or `"cpu"`: the GPU backend of the loaded libmlx.
    pub build: &'static str,
    /// GPUs MLX can use.
    pub gpu_count: usize,
}

impl std::fmt::Display for RuntimeInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MLX {} ({} build, {} GPU{})",
            self.mlx_version,
            self.build,
            self.gpu_count,
            if self.gpu_count == 1 { "" } else { "s" }
        )
    }
}

/// Asks the loaded MLX library for its version and GPUs.
pub fn runtime_info() -> RuntimeInfo {
    // SAFETY: plain queries of the loaded library; the string is freed here.
    unsafe {
        let mut count: std::os::raw::c_int = 0;
        let counted = mlx_sys::mlx_device_count(&mut count, mlx_sys::mlx_device_type__MLX_GPU) == 0;
        let gpu_count = if counted { count.max(0) as usize } else { 0 };
        let mut cuda = false;
        let cuda = mlx_sys::mlx_cuda_is_available(&mut cuda) == 0 && cuda;
        let mut version = mlx_sys::mlx_string_new();
        let mlx_version = if mlx_sys::mlx_version(&mut version) == 0 {
            std::ffi::CStr::from_ptr(mlx_sys::mlx_string_data(version))
                .to_string_lossy()
                .into_owned()
        } else {
            "unknown".to_string()
        };
        mlx_sys::mlx_string_free(version);
        let build = if cuda {
            "cuda"
        } else if cfg!(target_vendor = "apple") && gpu_count > 0 {
            "metal"
        } else {
            "cpu"
        };
        RuntimeInfo {
            mlx_version,
            build,
            gpu_count,
        }
    }
}

impl RuntimeInfo {
    /// Where MLX's CUDA build keeps the GPU kernels it compiles at run time
    /// (with NVRTC, on their first use on a machine), and how many it holds;
    /// `None` for other builds, which compile nothing at run time.
    ///
    /// MLX reads `MLX_PTX_CACHE_DIR`, else uses `<temp dir>/mlx/<version>/ptx`.
    /// An empty cache means the first steps of a program take about a minute
    /// longer while MLX compiles, once per machine (and again after the
    /// temporary directory is cleared).
    pub fn kernel_cache(&self) -> Option<KernelCache> {
        if self.build != "cuda" {
            return None;
        }
        let dir = std::env::var_os("MLX_PTX_CACHE_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::env::temp_dir()
                    .join("mlx")
                    .join(&self.mlx_version)
                    .join("ptx")
            });
        let kernels = std::fs::read_dir(&dir).map_or(0, |entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "ptx"))
                .count()
        });
        Some(KernelCache { dir, kernels })
    }
}

/// MLX's cache of compiled GPU kernels ([`RuntimeInfo::kernel_cache`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelCache {
    /// The directory MLX reads and writes.
    pub dir: std::path::PathBuf,
    /// Compiled kernels in it.
    pub kernels: usize,
}

impl KernelCache {
    /// Whether MLX has compiled no kernel on this machine yet: the next GPU
    /// program compiles the kernels it uses.
    pub fn is_empty(&self) -> bool {
        self.kernels == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_cache_counts_compiled_kernels_of_the_cuda_build() {
        let cpu = RuntimeInfo {
            mlx_version: "0.32.2".into(),
            build: "cpu",
            gpu_count: 0,
        };
        assert_eq!(cpu.kernel_cache(), None);
        if std::env::var_os("MLX_PTX_CACHE_DIR").is_some() {
            return; // MLX's cache is the one the variable names
        }
        let cuda = RuntimeInfo {
            mlx_version: format!("test-{}", std::process::id()),
            build: "cuda",
            gpu_count: 1,
        };
        let cache = cuda.kernel_cache().unwrap();
        assert!(cache.is_empty());
        std::fs::create_dir_all(&cache.dir).unwrap();
        std::fs::write(cache.dir.join("binary_add_float32.ptx"), "//").unwrap();
        std::fs::write(cache.dir.join("notes.txt"), "").unwrap();
        assert_eq!(cuda.kernel_cache().unwrap().kernels, 1);
        std::fs::remove_dir_all(cache.dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        assert_eq!(parse_bytes("4GB"), Some(4_000_000_000));
        assert_eq!(parse_bytes("512MiB"), Some(512 << 20));
        assert_eq!(parse_bytes(" 1.5 gb "), Some(1_500_000_000));
        assert_eq!(parse_bytes("1024"), Some(1024));
        for bad in ["", "GB", "4 parsecs", "-1GB", "1.2.3MB", "0.5B"] {
            assert_eq!(parse_bytes(bad), None, "{bad}");
        }
    }
}

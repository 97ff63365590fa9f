//! The MLX backend of mithril: runs the graphs that `model!` checked, through
//! mlx-rs (MLX's C API), eagerly or as compiled closures.
//!
//! Most users reach this crate through the `mithril` facade.

mod backend;
pub mod checkpoint;
mod compile;
pub mod debug;
pub mod decode;
pub mod distributed;
mod error;
pub mod instance;
pub mod io;
pub mod kernel;
mod lower;
pub mod mapping;
mod model;
mod recompute;
mod run;
mod sys;
pub mod tensor;
pub mod train;

pub use backend::{
    ByteSize, DType, Device, KernelCache, MemoryInfo, MlxBackend, MlxBackendBuilder, RuntimeInfo,
    gpu_available, parse_bytes, runtime_info,
};
pub use compile::{CompiledModel, Gradients, compile, graph_of};
pub use error::{Error, Result};
pub use instance::Instance;
pub use lower::{LowerCtx, RunOptions, lower};
pub use model::{
    ArrayReader, CustomFn, Family, Model, Nestable, NestedFn, Params, Values, build_graph,
    build_instance, build_template, custom_op,
};
pub use run::{BufferUpdates, forward, init, run_graph, run_graph_training};
pub use sys::slice_update_dynamic;

pub use mlx_rs;

/// mlx-rs 0.33 seeds its default random key with macOS's
/// `mach_approximate_time()`; off Apple nothing defines it, so we do.
#[cfg(not(target_vendor = "apple"))]
#[unsafe(no_mangle)]
pub extern "C" fn mach_approximate_time() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

//! # mithril
//!
//! Declarative neural-network models for Rust. Write a model once in
//! [`model!`]; while your crate compiles the macro infers every shape, rejects
//! what cannot work with an error at the offending layer, and expands into
//! typed structs — the model, its parameters, inputs and outputs — whose
//! forward pass lowers to [MLX](https://github.com/ml-explore/mlx) through `mlx-rs`.
//!
//! ```
//! use mithril::prelude::*;
//!
//! mithril::model! {
//!     /// The classifier of Mithril's MLX backend guide.
//!     pub Classifier {
//!         input input: [B, 784];
//!         input -> fc1: Linear(128) -> Relu -> fc2: Linear(64) -> Relu -> fc3: Linear(10) => logits;
//!         logits -> Softmax => probs;
//!         output logits, probs;
//!     }
//! }
//!
//! let backend = MlxBackend::builder().seed(42).build()?;
//! let params = Classifier::init(&backend)?;
//! let x = Array::zeros::<f32>(&[32, 784])?;
//! let out = Classifier::forward(&params, &ClassifierInputs { input: x })?;
//! assert_eq!(out.logits.shape(), &[32, 10]);
//! assert_eq!(Classifier::PARAMETER_COUNT, 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10);
//! # Ok::<(), mithril::Error>(())
//! ```
//!
//! [`compile`] binds a model to a backend; its `evaluate` runs a compiled MLX
//! closure and `evaluate_with_gradients` back-propagates cotangents given for
//! chosen outputs:
//!
//! ```
//! use mithril::prelude::*;
//! mithril::model! { Net { input x: [B, 3]; x -> fc: Linear(2) => y; output y; } }
//!
//! let backend = MlxBackend::builder().seed(0).build()?;
//! let params = Net::init(&backend)?;
//! let mut net = mithril::compile::<Net>(&backend);
//! let inputs = NetInputs { x: Array::ones::<f32>(&[4, 3])? };
//! let out = net.evaluate(&params, &inputs)?;
//! let (_, grads) = net.evaluate_with_gradients(&params, &inputs, &[("y", Array::ones::<f32>(&[4, 2])?)])?;
//! assert_eq!(out.y.shape(), &[4, 2]);
//! assert_eq!(grads.params.fc.weight.shape(), &[2, 3]);
//! # Ok::<(), mithril::Error>(())
//! ```
//!
//! # Where things are
//!
//! - [`prelude`]: what a training program needs, in one `use`.
//! - The crate root: the model traits ([`Model`], [`Params`], ...), the
//!   backend ([`MlxBackend`]), [`compile`], [`Error`].
//! - [`train`] (losses, objectives, the [`Trainer`](train::Trainer)),
//!   [`optimizers`], [`checkpoint`], [`io`], [`mapping`], [`tensor`],
//!   [`decode`], [`distributed`], [`debug`]: one module per task, each with
//!   an example.
//! - [`mlx_rs`]: the mlx-rs crate, for MLX's arrays and operations.
//! - [`runtime`]: the interpreter under `compile` and the trainer, for
//!   tests, benchmarks and tools.
//!
//! See `docs/dsl.md` for the grammar and `docs/layers.md` for the catalogue.

pub use mithril_macros::model;
pub use mithril_mlx::{
    ByteSize, CompiledModel, CustomFn, DType, Device, Error, Family, Gradients, Instance,
    KernelCache, MemoryInfo, MlxBackend, MlxBackendBuilder, Model, Params, Result, RuntimeInfo,
    Values, compile, forward, gpu_available, init, runtime_info,
};

/// The mlx-rs crate, for MLX's arrays and operations (`mithril::mlx_rs::ops`).
pub use mithril_mlx::mlx_rs;

/// What a training program needs: the macro, the backend, arrays,
/// [`compile`], the trainer, its objective and loss, the common optimizers,
/// the model traits and the error type.
///
/// ```
/// use mithril::prelude::*;
/// mithril::model! { Net { input x: [B, 2]; x -> fc: Linear(1) => y; output y; } }
///
/// let backend = MlxBackend::builder().seed(0).build()?;
/// let mut params = Net::init(&backend)?;
/// let objective = Objective::new("y", Loss::SquaredError);
/// let mut trainer = Trainer::<Net, _>::new(&backend, &objective, Sgd::new(0.1))?;
/// let inputs = NetInputs { x: Array::ones::<f32>(&[4, 2])? };
/// let step = trainer.step(&mut params, &inputs, &Array::zeros::<f32>(&[4, 1])?)?;
/// assert_eq!(step.loss.shape(), &[] as &[i32]);
/// # Ok::<(), mithril::Error>(())
/// ```
pub mod prelude {
    pub use crate::optimizers::{Adam, AdamW, Sgd};
    pub use crate::train::{Loss, Objective, Trainer};
    pub use crate::{
        DType, Device, Error, Family, MlxBackend, Model, Params, Result, Values, compile, model,
    };
    pub use mithril_mlx::mlx_rs::Array;
}

/// Training: losses, the objective (a loss on one output plus penalties),
/// metrics, and the [`Trainer`](train::Trainer), whose step runs as one
/// compiled MLX closure.
///
/// ```
/// use mithril::prelude::*;
/// use mithril::train::{Reduction, accuracy};
/// mithril::model! { Net { input x: [B, 4]; x -> fc: Linear(3) => logits; output logits; } }
///
/// let backend = MlxBackend::builder().seed(1).build()?;
/// let mut params = Net::init(&backend)?;
/// let objective = Objective::new("logits", Loss::cross_entropy())
///     .reduction(Reduction::Mean)
///     .l2(1e-4, ["fc.weight"]);
/// let mut trainer = Trainer::<Net, _>::new(&backend, &objective, Adam::new(1e-2))?;
/// let inputs = NetInputs { x: Array::ones::<f32>(&[2, 4])? };
/// let labels = Array::from_slice(&[0i32, 2], &[2]);
/// trainer.step(&mut params, &inputs, &labels)?;
/// let logits = Net::forward(&params, &inputs)?.logits;
/// assert!((0.0..=1.0).contains(&accuracy(&logits, &labels)?));
/// # Ok::<(), mithril::Error>(())
/// ```
pub mod train {
    pub use mithril_mlx::train::*;
}

/// mlx-rs's optimizers (SGD, Adam, AdamW, ...), for the
/// [`Trainer`](train::Trainer).
///
/// ```
/// use mithril::optimizers::{AdamW, Sgd};
/// let adamw = AdamW::new(1e-3);
/// assert_eq!(adamw.lr.item::<f32>(), 1e-3);
/// let mut sgd = Sgd::new(0.1);
/// sgd.lr = 0.05; // a hand-written loop may change it between its steps
/// ```
pub mod optimizers {
    pub use mithril_mlx::mlx_rs::optimizers::*;
}

/// Checkpoints of whole training runs (parameters, optimizer state, random
/// key, place in the data), written atomically, for exact resumption.
///
/// ```
/// use mithril::prelude::*;
/// use mithril::checkpoint::{Checkpoint, Progress};
/// mithril::model! { Net { input x: [B, 2]; x -> fc: Linear(1) => y; output y; } }
///
/// let dir = std::env::temp_dir().join(format!("mithril-doc-checkpoint-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("run.safetensors");
/// let backend = MlxBackend::builder().seed(0).build()?;
/// let mut params = Net::init(&backend)?;
/// let objective = Objective::new("y", Loss::SquaredError);
/// let mut trainer = Trainer::<Net, _>::new(&backend, &objective, Sgd::new(0.1))?;
/// let progress = Progress { epoch: 1, ..Progress::default() };
/// trainer.save_checkpoint(&path, &params, &progress)?;
/// let mut resumed = Trainer::<Net, _>::new(&backend, &objective, Sgd::new(0.1))?;
/// let checkpoint = Checkpoint::load(&path)?;
/// assert_eq!(resumed.restore(&checkpoint, &mut params)?.epoch, 1);
/// std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), mithril::Error>(())
/// ```
pub mod checkpoint {
    pub use mithril_mlx::checkpoint::*;
}

/// MLX's listing of the operations a model lowers to.
///
/// ```
/// use mithril::mlx_rs::Array;
/// let x = Array::ones::<f32>(&[2])?;
/// let y = x.exp()?;
/// let listing = mithril::debug::print_graph(&[&y], &[(&x, "x")])?;
/// assert!(!listing.is_empty());
/// # Ok::<(), mithril::Error>(())
/// ```
pub mod debug {
    pub use mithril_mlx::debug::*;
}

/// Generation with a KV cache: the [`Decoder`](decode::Decoder), sampling,
/// stop tokens.
///
/// ```
/// use mithril::decode::GenerationConfig;
/// let config = GenerationConfig::greedy(16);
/// assert_eq!(config.max_new_tokens, 16);
/// ```
pub mod decode {
    pub use mithril_mlx::decode::*;
}

/// Data-parallel runs over several processes (MLX's ring and NCCL
/// backends): groups, gradient averaging, sharding the data.
///
/// ```
/// use mithril::distributed::{Group, shard};
/// let group = Group::single();
/// assert_eq!((group.rank(), group.size()), (0, 1));
/// // Rank 1 of 2 takes the second half of each global batch of 4.
/// assert_eq!(shard(&[0, 1, 2, 3, 4, 5, 6, 7], 4, 1, 2), vec![vec![2, 3], vec![6, 7]]);
/// ```
pub mod distributed {
    pub use mithril_mlx::distributed::*;
}

/// Custom GPU kernels (MLX's `mx.fast.cuda_kernel`; `mx.fast.metal_kernel`
/// on macOS), custom VJPs, and fused transformer operations
/// (`layer_norm`, `add_layer_norm`, `bias_gelu`). A [`KernelOp`](kernel::KernelOp)
/// runs its kernel where the kernel's backend runs and its fallback in MLX
/// operations elsewhere (the CPU, CI), so a `Lambda` layer can use one:
///
/// ```
/// use std::sync::LazyLock;
/// use mithril::kernel::{Kernel, KernelOp, Launch};
/// use mithril::mlx_rs::{Array, error::Exception};
/// use mithril::prelude::*;
///
/// /// y = x * x, one thread per element.
/// static SQUARE_KERNEL: LazyLock<Kernel> = LazyLock::new(|| {
///     Kernel::cuda(
///         "square",
///         &["x"],
///         &["y"],
///         "const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
///          if (i < X_SIZE) { y[i] = x[i] * x[i]; }",
///     )
/// });
///
/// static SQUARE: LazyLock<KernelOp> = LazyLock::new(|| {
///     KernelOp::cuda(
///         |x| {
///             let launch = Launch::new([x[0].size(), 1, 1], [256, 1, 1])
///                 .output(x[0].shape(), x[0].dtype())
///                 .template("X_SIZE", x[0].size() as i32);
///             SQUARE_KERNEL.apply(&[&x[0]], &launch)
///         },
///         // The same function in MLX operations, for devices without CUDA.
///         |x| Ok(vec![x[0].square()?]),
///     )
///     // The kernel's gradient, 2 x dy, in MLX operations.
///     .backward(|v| Ok(vec![v.cotangents[0].multiply(v.primals[0].multiply(Array::from_f32(2.0))?)?]))
/// });
///
/// fn square(x: &Array) -> Result<Array, Exception> {
///     Ok(SQUARE.apply(&[x])?.remove(0))
/// }
///
/// mithril::model! {
///     Squared {
///         input x: [B, 3];
///         x -> fc: Linear(3) -> Lambda(square, shape = same) => y;
///         output y;
///     }
/// }
///
/// let backend = MlxBackend::builder().seed(0).build()?;
/// let params = Squared::init(&backend)?;
/// let out = mithril::compile::<Squared>(&backend)
///     .evaluate(&params, &SquaredInputs { x: Array::ones::<f32>(&[2, 3])? })?;
/// assert_eq!(out.y.shape(), &[2, 3]);
/// # Ok::<(), mithril::Error>(())
/// ```
pub mod kernel {
    pub use mithril_mlx::kernel::*;
}

/// Saving and loading parameters (safetensors, readable by Python MLX), and
/// the atomic file write that every save goes through.
///
/// ```
/// use mithril::prelude::*;
/// use mithril::io::{load_params, save_params, write_atomically};
/// mithril::model! { Net { input x: [B, 2]; x -> fc: Linear(1) => y; output y; } }
///
/// let dir = std::env::temp_dir().join(format!("mithril-doc-io-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let backend = MlxBackend::builder().seed(0).build()?;
/// let params = Net::init(&backend)?;
/// save_params::<Net>(&params, dir.join("net.safetensors"))?;
/// let loaded = load_params::<Net>(dir.join("net.safetensors"), DType::F32)?;
/// assert_eq!(loaded.fc.weight.shape(), &[1, 2]);
/// write_atomically(&dir.join("notes.txt"), b"trained")?;
/// std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), mithril::Error>(())
/// ```
pub mod io {
    pub use mithril_mlx::io::*;
}

/// Other libraries' checkpoints (PyTorch, Hugging Face) through declarative
/// name mappings.
///
/// ```
/// use mithril::mapping::Mapping;
/// let mapping = Mapping::new()
///     .transposed("dense.weight", "fc.weight")
///     .rename("dense.bias", "fc.bias");
/// assert_eq!(mapping.len(), 2);
/// ```
pub mod mapping {
    pub use mithril_mlx::mapping::*;
}

/// Tensor creation, conversion, laziness and NaN checks.
///
/// ```
/// use mithril::mlx_rs::Array;
/// use mithril::tensor::{has_nan, to_vec};
/// let a = Array::from_slice(&[1.0f32, 2.0], &[2]);
/// assert_eq!(to_vec::<f32>(&a)?, vec![1.0, 2.0]);
/// assert!(!has_nan(&a)?);
/// # Ok::<(), mithril::Error>(())
/// ```
pub mod tensor {
    pub use mithril_mlx::tensor::*;
}

/// The interpreter under [`compile`] and the trainer, and the model graph it
/// runs: for tests, benchmarks and tools that run or inspect a graph
/// directly. Programs use [`compile`], [`forward`] and the trainer instead.
///
/// ```
/// use mithril::mlx_rs::Array;
/// use mithril::runtime::{RunOptions, graph_of, run_graph};
/// mithril::model! { Net { input x: [B, 2]; x -> fc: Linear(1) => y; output y; } }
///
/// let graph = graph_of::<Net>();
/// assert_eq!(graph.weights[0].path, "fc.weight");
/// let weights = [Array::ones::<f32>(&[1, 2])?, Array::zeros::<f32>(&[1])?];
/// let x = Array::ones::<f32>(&[3, 2])?;
/// let outputs = run_graph(graph, &weights, &[x], &RunOptions::default())?;
/// assert_eq!(outputs[0].shape(), &[3, 1]);
/// # Ok::<(), mithril::Error>(())
/// ```
pub mod runtime {
    pub use mithril_core::Shape;
    pub use mithril_core::graph::Graph;
    pub use mithril_core::layers::Init;
    pub use mithril_mlx::{
        BufferUpdates, RunOptions, graph_of, run_graph, run_graph_training, slice_update_dynamic,
    };
}

/// Items the code generated by [`model!`] refers to. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use mithril_core::args::{ArgSpec, ArgValue};
    pub use mithril_core::family::{
        BinaryOp, ExprTok, Func, ParamKind, ParamSpec, ParamType, Template,
    };
    pub use mithril_core::graph::{
        Binding, DimSpec, Graph, InputSpec, LoopSpec, ModelSpec, Nested, NodeSpec, Scalar,
        ShareSpec, ValueRef,
    };
    pub use mithril_mlx::mlx_rs::Array;
    pub use mithril_mlx::{
        ArrayReader, Nestable, NestedFn, build_graph, build_instance, build_template, custom_op,
        instance::{ConfigValue, config_arg},
    };
    pub use std::sync::{Arc, OnceLock};
}

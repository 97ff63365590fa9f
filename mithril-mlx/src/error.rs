//! The error type of the MLX backend.

use mithril_core::graph::ConcreteShapeError;
use mlx_rs::error::Exception;

/// Everything that can go wrong when running a model on MLX.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Inputs whose shapes do not fit the model's declaration (names the input,
    /// the declared shape, the symbol bindings and what was given).
    #[error(transparent)]
    Shape(Box<ConcreteShapeError>),
    /// A parameter array of the wrong shape.
    #[error("parameter `{path}`: expected shape {expected:?}, got {found:?}")]
    ParamShape {
        /// Its dotted path.
        path: String,
        /// The shape the model needs.
        expected: Vec<usize>,
        /// The shape given.
        found: Vec<usize>,
    },
    /// An array of an unexpected dtype.
    #[error("{what}: expected dtype {expected}, got {found}")]
    Dtype {
        /// What the array is (`input \`x\``, `parameter \`fc1.weight\``).
        what: String,
        /// The dtype needed.
        expected: crate::DType,
        /// The dtype given.
        found: String,
    },
    /// A malformed backend option.
    #[error("invalid backend option `{option}`: {reason}")]
    Config {
        /// The option.
        option: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A model family's instantiation with values given at run time that
    /// does not check: every problem, each naming its layer.
    #[error("`{call}` does not make a model: {}", problems.join("; "))]
    Instantiation {
        /// The family with the values given, `Gpt2(d = 768, heads = 10, ..)`.
        call: String,
        /// What is wrong, each naming its layer, expected and found.
        problems: Vec<String>,
    },
    /// Output gradients for an output the model does not have.
    #[error("model `{model}` has no output `{name}` (its outputs: {known})")]
    UnknownOutput {
        /// The model.
        model: &'static str,
        /// The name given.
        name: String,
        /// The outputs it has.
        known: String,
    },
    /// A parameter path that the model does not have.
    #[error("model `{model}` has no parameter `{name}`")]
    UnknownParam {
        /// The model.
        model: &'static str,
        /// The path given.
        name: String,
    },
    /// NaNs or infinities where there should be none.
    #[error("{what} holds non-finite values ({nans} NaN of {total} elements)")]
    NonFinite {
        /// What was checked.
        what: String,
        /// How many NaNs.
        nans: usize,
        /// Elements in all.
        total: usize,
    },
    /// A file that could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A safetensors file that is not well-formed (truncated, corrupted).
    #[error("{path}: not a valid safetensors file: {reason}")]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A parameter file whose names, shapes or dtypes do not fit the model;
    /// lists every mismatch.
    #[error("{path} does not fit model `{model}`:\n  {}", problems.join("\n  "))]
    Mismatch {
        /// The file.
        path: std::path::PathBuf,
        /// The model.
        model: &'static str,
        /// Every mismatch, one per line.
        problems: Vec<String>,
    },
    /// Processes of a distributed run could not join, or lost each other.
    #[error("distributed run ({backend} backend): {reason}")]
    Distributed {
        /// MLX's backend (`ring`, `nccl`).
        backend: &'static str,
        /// What happened.
        reason: String,
    },
    /// A well-formed safetensors file that is not a usable checkpoint: not
    /// a checkpoint at all, another format version, or an entry missing or
    /// malformed.
    #[error("{path}: not a usable mithril checkpoint: {reason}")]
    CheckpointFormat {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint whose contents do not match the checksum written with
    /// them: corrupted on disk or in transit.
    #[error(
        "{path}: corrupted checkpoint: its checksum is {stored:08x} but its contents give {computed:08x}"
    )]
    Checksum {
        /// The file.
        path: std::path::PathBuf,
        /// The CRC-32 the file records.
        stored: u32,
        /// The CRC-32 of what the file holds.
        computed: u32,
    },
    /// A checkpoint that does not fit the run restoring it (another model,
    /// parameter layout, dtype or optimizer); lists every mismatch. Nothing
    /// was changed.
    #[error("{path} cannot resume this run of model `{model}`:\n  {}", problems.join("\n  "))]
    CheckpointMismatch {
        /// The file.
        path: std::path::PathBuf,
        /// The model being trained.
        model: &'static str,
        /// Every mismatch, one per line.
        problems: Vec<String>,
    },
    /// A training step met a value that is not finite (NaN or infinite),
    /// with [`Trainer::stop_on_non_finite`](crate::train::Trainer::stop_on_non_finite)
    /// on. The step was not applied: the parameters, optimizer state and
    /// random key are as they were before it.
    #[error(
        "training diverged at step {step}: {first} is not finite{}; the step was not applied",
        others(non_finite)
    )]
    Diverged {
        /// The step (counted from 1) that was refused.
        step: u64,
        /// What went non-finite first: an input, a layer's output, the
        /// loss, a gradient, or a parameter after the update.
        first: String,
        /// Every checked value that is not finite, in the order checked.
        non_finite: Vec<String>,
    },
    /// A generation that cannot run (a prompt too long for the context, a
    /// token outside the vocabulary, a model that does not decode).
    #[error(transparent)]
    Generation(#[from] crate::decode::GenerationError),
    /// An error raised by MLX.
    #[error("mlx: {0}")]
    Mlx(#[from] Exception),
}

/// How a [`Error::Diverged`] message lists what else went non-finite.
fn others(non_finite: &[String]) -> String {
    const SHOWN: usize = 3;
    let rest = non_finite.get(1..).unwrap_or_default();
    match rest.len() {
        0 => String::new(),
        n if n <= SHOWN => format!(" (also non-finite: {})", rest.join(", ")),
        n => format!(
            " (also non-finite: {}, and {} more)",
            rest[..SHOWN].join(", "),
            n - SHOWN
        ),
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<ConcreteShapeError> for Error {
    fn from(e: ConcreteShapeError) -> Error {
        // Boxed: shape errors carry names, shapes and bindings, and would
        // otherwise make every `Result` of this crate large.
        Error::Shape(Box::new(e))
    }
}

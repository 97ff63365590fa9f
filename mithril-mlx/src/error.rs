//! The error type of the MLX backend.
//!
//! MLX's closures (compiled functions, vector-Jacobian products) can only
//! fail with mlx-rs's [`Exception`], a message. An [`Error`] raised inside
//! one (a layer that cannot run on the arrays it was given) goes through as
//! an `Exception` made by [`raise`], which keeps the typed error aside on
//! its thread; converting that `Exception` back into an [`Error`] once the
//! closure has returned takes the typed error again.

use std::cell::RefCell;

use mithril_core::graph::ConcreteShapeError;
use mlx_rs::error::{AsSliceError, Exception};

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
    /// An input array the model cannot take, found before MLX sees it
    /// (shapes are [`Error::Shape`]).
    #[error("input `{name}`: expected {expected}, found {found}")]
    Input {
        /// The input's name.
        name: String,
        /// What the model needs, and how to give it.
        expected: String,
        /// What was given.
        found: String,
    },
    /// A layer that cannot run on the values it was given at run time, or
    /// whose MLX operations failed.
    #[error("layer `{name}` ({call}): {reason}")]
    Layer {
        /// Its name in its model (`embed`, `block.fc1`).
        name: String,
        /// The layer as written (`Embedding(10, 4)`).
        call: String,
        /// What is wrong, and what to write instead.
        reason: String,
    },
    /// A loss that cannot read the scores it was given.
    #[error("`{loss}`: {reason}")]
    Loss {
        /// The loss as written (`Loss::KlDivergence { scores: Logits }`).
        loss: String,
        /// What is wrong, and what to write instead.
        reason: String,
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
    /// An array whose elements could not be read back (a dtype other than
    /// the one asked for, or not evaluated).
    #[error("reading an array's elements: {0}")]
    ArrayRead(#[from] AsSliceError),
    /// A broken invariant of mithril itself, never the caller's input.
    #[error("internal error: {0} (a bug in mithril: please report it)")]
    Internal(&'static str),
    /// A custom kernel or custom VJP that cannot run as asked.
    #[error(transparent)]
    Kernel(#[from] crate::kernel::KernelError),
    /// An error raised by MLX: its message, without the place in our
    /// sources it passed through.
    #[error("MLX: {}", mlx_message(.0.what()))]
    Mlx(Exception),
}

/// MLX's message without the place in MLX's C sources it ends with
/// (`... at /path/to/mlx/c/ops.cpp:55`).
pub(crate) fn mlx_message(what: &str) -> &str {
    let Some(at) = what.rfind(" at ") else {
        return what;
    };
    let place = &what[at + 4..];
    let is_source_place = place
        .rsplit_once(':')
        .is_some_and(|(file, line)| file.contains('.') && line.parse::<u32>().is_ok());
    match is_source_place {
        true => &what[..at],
        false => what,
    }
}

thread_local! {
    /// The typed error last [`raise`]d on this thread, with its message.
    static RAISED: RefCell<Option<(String, Error)>> = const { RefCell::new(None) };
}

/// `error` as the [`Exception`] an MLX closure must return, kept aside so
/// that the `Exception` converts back into `error` once the closure returns.
pub(crate) fn raise(error: Error) -> Exception {
    let message = error.to_string();
    let exception = Exception::custom(message.clone());
    RAISED.with(|raised| *raised.borrow_mut() = Some((message, error)));
    exception
}

impl From<Exception> for Error {
    fn from(e: Exception) -> Error {
        // The typed error raised for this exception, if it is one: the same
        // message (a compiled closure's failure is re-made from it).
        match RAISED.with(|raised| raised.borrow_mut().take()) {
            Some((message, error)) if message == e.what() => error,
            _ => Error::Mlx(e),
        }
    }
}

/// An [`Error`] returned inside an MLX closure or a custom op's function
/// (`fn(&Array) -> Result<Array, Exception>`): kept aside, so it converts
/// back into the typed error once the closure returns.
impl From<Error> for Exception {
    fn from(e: Error) -> Exception {
        match e {
            Error::Mlx(e) => e,
            e => raise(e),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlx_messages_lose_their_source_place_only() {
        assert_eq!(
            mlx_message("[addmm] shapes differ. at /x/mlx-c/mlx/c/ops.cpp:55"),
            "[addmm] shapes differ."
        );
        assert_eq!(mlx_message("meet at noon"), "meet at noon");
        assert_eq!(mlx_message("plain"), "plain");
    }

    #[test]
    fn a_raised_error_comes_back_typed_and_others_stay_mlx() {
        let e = raise(Error::Internal("test"));
        assert!(matches!(Error::from(e), Error::Internal("test")));
        let other = Exception::custom("from MLX");
        assert!(matches!(Error::from(other), Error::Mlx(_)));
    }
}

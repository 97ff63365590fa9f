//! Why a run stopped, and its exit code.

use std::fmt::{self, Display};

/// Why the run stopped.
#[derive(Debug)]
pub enum Failure {
    /// The configuration cannot run here (e.g. --gpu on a CPU build): exit 2.
    Unsupported(String),
    /// Anything else (missing data, MLX errors, unwritable output, a failed
    /// --quick check): exit 1.
    Failed(String),
}

impl Failure {
    /// The process's exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Unsupported(_) => 2,
            Failure::Failed(_) => 1,
        }
    }
}

impl Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Unsupported(m) | Failure::Failed(m) => f.write_str(m),
        }
    }
}

/// Adds what was being done to an error's message.
pub trait Context<T> {
    /// A [`Failure::Failed`] saying `what` went wrong, then the error.
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Failure>;
}

impl<T, E: Display> Context<T> for Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Failure> {
        self.map_err(|e| Failure::Failed(format!("{}: {e}", what())))
    }
}

//! Helpers shared by the examples: their common flags (`flags`), MNIST
//! loading, batches and accuracy (`mnist`), the order of the data
//! (`order`), the training loop (`train`), and what they report (`report`).

#![allow(dead_code)] // Not every example uses every helper.

pub mod flags;
pub mod mnist;
pub mod order;
pub mod report;
pub mod train;

use std::fmt;

/// The examples' error type: any error. `main` returning it prints its
/// message (`Display`), not the value's structure.
pub struct Error(Box<dyn std::error::Error>);

impl<E: Into<Box<dyn std::error::Error>>> From<E> for Error {
    fn from(error: E) -> Error {
        Error(error.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

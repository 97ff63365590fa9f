//! Readers of the data sets that Mithril's examples, tests and benchmarks
//! train on. Every loader takes the directory or files to read explicitly:
//! where a checkout keeps its copy (`data/` of the repository) is for the
//! callers to say.
//!
//! - [`mnist`]: MNIST digits in the IDX format, gzip-compressed or not; the
//!   standard distribution's four files or the repository's 10,000-digit
//!   training subset.

pub mod error;
pub mod idx;
pub mod mnist;

pub use error::MnistError;
pub use mnist::{Mnist, MnistDir, TrainingSet};

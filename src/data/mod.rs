//! Data sets the examples and tests use, read from files in the repository.

pub mod mnist;

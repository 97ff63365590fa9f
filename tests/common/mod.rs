//! Code shared by integration tests: declare it with `mod common;`.

pub mod numeric;

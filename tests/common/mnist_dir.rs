//! Where this checkout keeps its MNIST files (`data/mnist/`). Declare it
//! with `#[path = "common/mnist_dir.rs"] mod mnist_dir;`.

use std::path::{Path, PathBuf};

/// `data/mnist` of this repository.
pub fn mnist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("mnist")
}

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
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

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

/// Writes `bytes` to `path` atomically: into a temporary file in the same
/// directory, flushed to disk, then renamed over `path`. A reader never sees
/// a half-written file, and an interrupted run leaves the old one in place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

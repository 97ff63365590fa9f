//! What `cargo mithril setup` installs on Linux x86_64 and how builds check
//! it ([`manifest`]), and the atomic file write ([`atomic`]) that the
//! install, mithril's checkpoints and parameter files, and the examples'
//! outputs all go through.
//!
//! It depends on nothing: mithril-mlx's build script and cargo-mithril both
//! use it.

pub mod atomic;
pub mod manifest;

pub use atomic::{WriteStage, sync_dir, write_atomically, write_atomically_observed};
pub use manifest::{
    MANIFEST_NAME, MLX_SYS_VERSION, MLX_VERSION, Manifest, Problem, Recorded, check, recorded_files,
};

//! `cargo mithril`: what a Rust crate needs to use mithril.
//!
//! On Linux x86_64 there is no MLX package, so `setup` installs MLX once per
//! user (the PyPI wheel with Debian's OpenBLAS, plus mlx-c built against it),
//! and `new`/`init` give a crate the cargo configuration that points mlx-sys
//! at that install. `run --gpu` runs a crate on MLX's CUDA build, `launch`
//! runs it as several data-parallel ranks. On macOS
//! mlx-sys builds MLX with Metal by itself and none of this is needed.

mod cli;
mod config;
mod doctor;
mod home;
mod install;
mod launch;
mod mlx_c;
mod packages;
mod process;
mod project;
mod run;
mod setup;
mod wheel;
mod wrapper;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The setup's own build of mlx-sys runs this binary as its rustc wrapper.
    if let Some(code) = wrapper::run_if_wrapping() {
        return code;
    }
    let cli::Cargo::Mithril(cli) = cli::Cargo::parse();
    match cli::dispatch(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

//! `cargo mithril run [--gpu] [CARGO RUN ARGS] [-- PROGRAM ARGS]`.
//!
//! Programs link against the CPU install's libmlx.so through a RUNPATH, so
//! `LD_LIBRARY_PATH` can point them at MLX's CUDA build instead, with no
//! rebuild: the same C API, the same symbols. `MlxBackend`'s default device
//! (`Device::Auto`) then picks the GPU.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

use crate::home::Home;
use crate::setup::{Platform, platform};

/// `--gpu` may come anywhere before `--`; it is ours, not cargo's.
fn split_gpu_flag(args: &[String]) -> (bool, Vec<String>) {
    let mut gpu = false;
    let mut rest = Vec::with_capacity(args.len());
    let mut program_args = false;
    for arg in args {
        if arg == "--" {
            program_args = true;
        }
        if !program_args && arg == "--gpu" {
            gpu = true;
        } else {
            rest.push(arg.clone());
        }
    }
    (gpu, rest)
}

/// The environment that selects MLX's CUDA build.
pub fn cuda_environment() -> Result<Vec<(&'static str, OsString)>> {
    let cuda = Home::locate()?.cuda();
    if !cuda.is_installed() {
        bail!(
            "MLX's CUDA build is not installed at {}: run `cargo mithril setup --cuda`",
            cuda.dir.display()
        );
    }
    let mut library_path = OsString::from(cuda.mlx_lib());
    if let Some(existing) = std::env::var_os("LD_LIBRARY_PATH").filter(|p| !p.is_empty()) {
        library_path.push(":");
        library_path.push(existing);
    }
    let mut env = vec![("LD_LIBRARY_PATH", library_path)];
    if std::env::var_os("CUDA_HOME").is_none() {
        env.push(("CUDA_HOME", cuda.cuda_home().into_os_string()));
    }
    Ok(env)
}

pub fn run(gpu_flag: bool, args: &[String]) -> Result<ExitCode> {
    let (gpu_in_args, args) = split_gpu_flag(args);
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo.arg("run").args(&args);
    if (gpu_flag || gpu_in_args) && matches!(platform()?, Platform::LinuxX86_64) {
        for (key, value) in cuda_environment()? {
            cargo.env(key, value);
        }
    }
    let status = cargo.status().context("could not run `cargo run`")?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

#[cfg(test)]
mod tests {
    use super::split_gpu_flag;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn gpu_is_taken_before_the_separator_only() {
        let (gpu, rest) = split_gpu_flag(&strings(&["--release", "--gpu", "--", "--gpu", "x"]));
        assert!(gpu);
        assert_eq!(rest, strings(&["--release", "--", "--gpu", "x"]));
        let (gpu, rest) = split_gpu_flag(&strings(&["--", "--gpu"]));
        assert!(!gpu);
        assert_eq!(rest, strings(&["--", "--gpu"]));
    }
}

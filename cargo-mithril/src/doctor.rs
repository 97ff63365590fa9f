//! `cargo mithril doctor`: what is installed, what is missing, and the
//! command that fixes each problem.

use std::path::Path;
use std::process::{Command, ExitCode};

use anyhow::Result;

use crate::home::{Home, MLX_SYS_VERSION, MLX_VERSION};
use crate::setup::{Platform, blas_problem, platform};

fn line(ok: bool, what: &str, detail: impl std::fmt::Display) {
    let mark = if ok {
        "\x1b[32m  ok\x1b[0m"
    } else {
        "\x1b[31mmiss\x1b[0m"
    };
    println!("{mark}  {what}: {detail}");
}

fn note(what: &str, detail: impl std::fmt::Display) {
    println!("\x1b[33mnote\x1b[0m  {what}: {detail}");
}

pub fn doctor() -> Result<ExitCode> {
    println!("cargo-mithril {}", env!("CARGO_PKG_VERSION"));
    if let Platform::MacOs = platform()? {
        line(
            true,
            "platform",
            "macOS: mlx-sys builds MLX with Metal itself; nothing to install or configure",
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut healthy = true;
    let home = Home::locate()?;
    println!("      home: {} ({})", home.root.display(), home.origin);

    match crate::packages::missing() {
        None => note("Debian packages", "not a Debian system; not checked"),
        Some(missing) if missing.is_empty() => line(true, "Debian packages", "all present"),
        Some(missing) => {
            healthy = false;
            line(
                false,
                "Debian packages",
                format!(
                    "missing {}: `cargo mithril setup` installs them (as root)",
                    missing.join(" ")
                ),
            );
        }
    }

    let cpu = home.cpu();
    match crate::install::verify(&cpu, true) {
        Ok(manifest) => line(
            true,
            &format!("MLX {MLX_VERSION} (CPU)"),
            format!(
                "{} (mlx-sys {MLX_SYS_VERSION} bindings, {} files sha256-verified)",
                cpu.dir.display(),
                manifest.files.len()
            ),
        ),
        Err(problem) => {
            healthy = false;
            line(
                false,
                &format!("MLX {MLX_VERSION} (CPU)"),
                format!("{problem}: run `{}`", problem.fix()),
            );
        }
    }
    if cpu.dir.is_dir() {
        match blas_problem(&cpu) {
            None => line(true, "BLAS", "OpenBLAS"),
            Some(problem) => {
                healthy = false;
                line(
                    false,
                    "BLAS",
                    format!("{problem}: run `cargo mithril setup --force`"),
                );
            }
        }
    }

    let cuda = home.cuda();
    if cuda.is_installed() {
        line(
            true,
            &format!("MLX {MLX_VERSION} (CUDA 13)"),
            cuda.dir.display(),
        );
    } else {
        note(
            &format!("MLX {MLX_VERSION} (CUDA 13)"),
            "not installed; only NVIDIA GPUs need it: `cargo mithril setup --cuda`",
        );
    }

    match crate::project::workspace_root(Path::new(".")) {
        None => note("this directory", "not in a cargo project"),
        Some(root) => match crate::config::configured_install(&root) {
            Some(dir) if dir == cpu.dir => line(
                true,
                "this project",
                format!(
                    "{} points at this install",
                    crate::config::path_in(&root).display()
                ),
            ),
            Some(dir) => {
                healthy = false;
                line(
                    false,
                    "this project",
                    format!(
                        "{} points at {}, not this install: run `cargo mithril init`",
                        crate::config::path_in(&root).display(),
                        dir.display()
                    ),
                );
            }
            None => {
                healthy = false;
                line(
                    false,
                    "this project",
                    format!(
                        "{} has no mithril configuration: run `cargo mithril init`",
                        root.display()
                    ),
                );
            }
        },
    }

    if std::env::var_os("RUSTFLAGS").is_some_and(|f| !f.is_empty()) {
        note(
            "RUSTFLAGS",
            "set: it replaces the project's rustflags, so programs lose their rpath to libmlx.so (set LD_LIBRARY_PATH, or add the flags to the project's config instead)",
        );
    }
    let cxx = Command::new("g++")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if cxx {
        line(
            true,
            "C++ compiler",
            "g++ (MLX compiles its fused CPU kernels at run time)",
        );
    } else {
        note(
            "C++ compiler",
            "no g++: MLX runs, but without fused CPU kernels",
        );
    }
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

//! The Debian packages the set-up needs: installed with apt-get when running
//! as root, otherwise the exact command is printed.

use std::process::Command;

use anyhow::{Result, bail};

use crate::process::{run, status};

/// What each package is for.
pub const NEEDED: &[(&str, &str)] = &[
    (
        "build-essential",
        "C/C++ compiler and linker (mlx-c, linking, MLX's kernel JIT)",
    ),
    ("cmake", "building mlx-c"),
    ("clang", "bindgen's C parser"),
    ("libclang-dev", "bindgen's C parser"),
    (
        "libopenblas0-pthread",
        "OpenBLAS, in place of the wheel's reference BLAS",
    ),
    ("python3", "pip, which downloads the MLX wheels"),
    ("python3-pip", "pip, which downloads the MLX wheels"),
];

/// Whether dpkg knows this system (Debian and derivatives).
fn has_dpkg() -> bool {
    Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn installed(package: &str) -> bool {
    // Python may come from elsewhere (pyenv, a venv): then apt is not asked.
    match package {
        "python3" if python_works(&["--version"]) => return true,
        "python3-pip" if python_works(&["-m", "pip", "--version"]) => return true,
        _ => {}
    }
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout) == "install ok installed")
}

fn python_works(args: &[&str]) -> bool {
    Command::new("python3")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The needed packages that are not installed (`None`: not a Debian system).
pub fn missing() -> Option<Vec<&'static str>> {
    if !has_dpkg() {
        return None;
    }
    Some(
        NEEDED
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| !installed(p))
            .collect(),
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Installs what is missing (as root), or stops with the command to run.
pub fn ensure() -> Result<()> {
    let Some(missing) = missing() else {
        crate::process::warn(format!(
            "not a Debian system: make sure these are installed: {}",
            NEEDED.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(" ")
        ));
        return Ok(());
    };
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !is_root() {
        bail!(
            "missing Debian packages; run this, then `cargo mithril setup` again:\n    sudo apt-get update && sudo apt-get install -y {list}"
        );
    }
    status("Installing", &list);
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

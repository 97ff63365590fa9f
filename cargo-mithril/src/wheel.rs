//! MLX's PyPI wheels: downloaded with pip (as `pip install mlx` would, with
//! the user's pip configuration), checked against pinned sha256 sums, and
//! unpacked (a wheel is a zip).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::home::MLX_VERSION;
use crate::install::sha256_file;
use crate::process::{run, status};

/// A pinned wheel.
pub struct Wheel {
    /// The requirement pip resolves (`mlx-cpu==0.32.2`).
    pub requirement: String,
    /// The file pip downloads.
    pub file_name: String,
    pub sha256: &'static str,
}

/// MLX's CPU build for Linux x86_64.
pub fn cpu() -> Wheel {
    Wheel {
        requirement: format!("mlx-cpu=={MLX_VERSION}"),
        file_name: format!("mlx_cpu-{MLX_VERSION}-py3-none-manylinux_2_35_x86_64.whl"),
        sha256: "fc5d31b90fc4f457b2f9614ed45651a567d22a6a11a03d114a90a4e10bdd8878",
    }
}

/// MLX's CUDA 13 build; its NVIDIA dependencies are pip's to resolve and
/// check against PyPI's hashes.
pub fn cuda() -> Wheel {
    Wheel {
        requirement: format!("mlx-cuda-13=={MLX_VERSION}"),
        file_name: format!("mlx_cuda_13-{MLX_VERSION}-py3-none-manylinux_2_35_x86_64.whl"),
        sha256: "335094ccd1c0c6dc3e09c8caba207c8180602bacc0c38ba20c1d81e9456ab394",
    }
}

/// pip's target: the wheels are for any CPython 3, on glibc 2.35 x86_64.
fn pip_download(dir: &Path, requirement: &str, with_dependencies: bool) -> Command {
    let mut pip = Command::new("python3");
    pip.args(["-m", "pip", "download", "--quiet", "--only-binary=:all:"]);
    if !with_dependencies {
        pip.arg("--no-deps");
    }
    for glibc in [35, 34, 31, 28, 27, 24, 17] {
        pip.args(["--platform", &format!("manylinux_2_{glibc}_x86_64")]);
    }
    pip.args(["--platform", "manylinux2014_x86_64"])
        .args(["--python-version", "3.12", "--implementation", "cp"])
        .arg("-d")
        .arg(dir)
        .arg(requirement);
    pip
}

/// The wheel in `downloads`, fetched if absent; either way its sha256 is
/// checked. With `with_dependencies`, the other wheels pip fetched beside it
/// (a fresh download directory each time, so nothing stale is unpacked).
pub fn fetch(wheel: &Wheel, downloads: &Path, with_dependencies: bool) -> Result<Vec<PathBuf>> {
    let set = downloads.join(&wheel.requirement);
    let main = set.join(&wheel.file_name);
    if !main.is_file() {
        status("Downloading", format!("{} from PyPI", wheel.requirement));
        let partial = downloads.join(format!(
            ".{}.partial-{}",
            wheel.requirement,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial)
            .with_context(|| format!("creating {}", partial.display()))?;
        run(&mut pip_download(
            &partial,
            &wheel.requirement,
            with_dependencies,
        ))
        .context("downloading from PyPI (pip needs network access the first time)")?;
        if !partial.join(&wheel.file_name).is_file() {
            bail!("pip did not download {}", wheel.file_name);
        }
        let _ = std::fs::remove_dir_all(&set);
        std::fs::rename(&partial, &set)
            .with_context(|| format!("moving the download into {}", set.display()))?;
    }
    let actual = sha256_file(&main)?;
    if actual != wheel.sha256 {
        let _ = std::fs::remove_dir_all(&set);
        bail!(
            "{} has sha256 {actual}, expected {}; it was deleted, run setup again to download it afresh",
            main.display(),
            wheel.sha256
        );
    }
    let mut wheels = vec![main.clone()];
    if with_dependencies {
        for entry in std::fs::read_dir(&set)? {
            let path = entry?.path();
            if path != main && path.extension().is_some_and(|e| e == "whl") {
                wheels.push(path);
            }
        }
    }
    Ok(wheels)
}

/// Unpacks `wheel` into `dest` (merging with what is there).
pub fn unpack(wheel: &Path, dest: &Path) -> Result<()> {
    run(Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(wheel)
        .arg(dest))
    .with_context(|| format!("unpacking {}", wheel.display()))
}

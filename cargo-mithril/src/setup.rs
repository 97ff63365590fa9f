//! `cargo mithril setup`: MLX for this user, installed atomically.
//!
//! Everything is built in a `.partial` directory beside the install and
//! renamed into place only when complete (its manifest written last), so an
//! interrupted setup leaves nothing a later run or a build would trust.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::home::{CpuInstall, Home, MLX_VERSION};
use crate::process::status;
use crate::wheel;
use mithril_install::Problem;
use mithril_install::sync_dir;

pub struct Options {
    pub cuda: bool,
    pub force: bool,
}

/// Debian's OpenBLAS, ABI-compatible with the reference BLAS/LAPACK the
/// wheel bundles and about 30 times faster at matmul.
const OPENBLAS_DIR: &str = "/usr/lib/x86_64-linux-gnu/openblas-pthread";

/// Where this platform gets MLX from.
pub enum Platform {
    /// Linux x86_64: the PyPI wheels, installed by setup.
    LinuxX86_64,
    /// macOS: mlx-sys builds MLX with Metal itself.
    MacOs,
}

pub fn platform() -> Result<Platform> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Ok(Platform::LinuxX86_64),
        ("macos", _) => Ok(Platform::MacOs),
        (os, arch) => bail!(
            "mithril runs on Linux x86_64 (MLX's CPU and CUDA wheels) and macOS (Metal); this is {os} {arch}"
        ),
    }
}

pub fn setup(options: &Options) -> Result<()> {
    if let Platform::MacOs = platform()? {
        status(
            "Nothing",
            "to install on macOS: mlx-sys builds MLX with Metal itself (it needs Xcode's command-line tools and CMake)",
        );
        return Ok(());
    }
    let home = Home::locate()?;
    let _lock = home.lock()?;
    let cpu = home.cpu();
    let state = crate::install::verify(&cpu, false).and_then(|_| match blas_problem(&cpu) {
        Some(p) => Err(Problem::Damaged(p)),
        None => Ok(()),
    });
    match state {
        Ok(()) if !options.force => status(
            "Fresh",
            format!("MLX {MLX_VERSION} (CPU, OpenBLAS) at {}", cpu.dir.display()),
        ),
        other => {
            if let Err(problem @ (Problem::Version { .. } | Problem::Damaged(_))) = &other {
                status(
                    "Reinstalling",
                    format!("the install at {} is {problem}", cpu.dir.display()),
                );
            }
            crate::packages::ensure()?;
            install_cpu(&home)?;
            status(
                "Installed",
                format!("MLX {MLX_VERSION} (CPU, OpenBLAS) at {}", cpu.dir.display()),
            );
        }
    }
    if options.cuda {
        install_cuda(&home, options.force)?;
    }
    eprintln!(
        "\nNext: `cargo mithril new PATH` for a new crate, or `cargo mithril init` in an existing one."
    );
    Ok(())
}

/// A fresh `.partial` directory for `name` under the home, with any left by
/// an interrupted run removed (the lock is held, so they are not in use).
fn staging_dir(home: &Home, name: &str) -> Result<PathBuf> {
    let prefix = format!(".{name}.partial-");
    for entry in std::fs::read_dir(&home.root)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            std::fs::remove_dir_all(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
        }
    }
    let dir = home.root.join(format!("{prefix}{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Moves a complete `staging` directory to `dest`, replacing what is there.
fn commit(staging: &Path, dest: &Path) -> Result<()> {
    if dest.exists() {
        let old = dest.with_extension(format!("old-{}", std::process::id()));
        std::fs::rename(dest, &old).with_context(|| format!("moving {} aside", dest.display()))?;
        std::fs::rename(staging, dest)
            .with_context(|| format!("moving the new install to {}", dest.display()))?;
        std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
    } else {
        std::fs::rename(staging, dest)
            .with_context(|| format!("moving the new install to {}", dest.display()))?;
    }
    sync_dir(dest.parent().unwrap_or(Path::new(".")))?;
    Ok(())
}

fn install_cpu(home: &Home) -> Result<()> {
    let cpu_wheel = wheel::cpu();
    let downloaded = wheel::fetch(&cpu_wheel, &home.downloads(), false)?;
    let dest = home.cpu();
    let name = dest
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = staging_dir(home, &name)?;
    status("Unpacking", &cpu_wheel.file_name);
    wheel::unpack(&downloaded[0], &staging)?;
    swap_blas(&staging)?;

    let scratch = std::env::temp_dir().join(format!("mithril-setup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let built = crate::mlx_c::build(&CpuInstall::at(&staging), &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    built?;

    crate::install::write_manifest(&staging, &cpu_wheel.file_name, cpu_wheel.sha256)?;
    commit(&staging, &dest.dir)
}

/// Points the wheel's bundled reference BLAS/LAPACK (found by libmlx.so's
/// RPATH `$ORIGIN/../../mlx_cpu.libs`) at OpenBLAS.
fn swap_blas(wheel_root: &Path) -> Result<()> {
    let libs = wheel_root.join("mlx_cpu.libs");
    let mut swapped = 0;
    for entry in std::fs::read_dir(&libs).with_context(|| format!("reading {}", libs.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = if name.starts_with("libblas-") {
            "libblas.so.3"
        } else if name.starts_with("liblapack-") {
            "liblapack.so.3"
        } else {
            continue;
        };
        let target = Path::new(OPENBLAS_DIR).join(target);
        if !target.exists() {
            bail!(
                "OpenBLAS is not installed ({} is missing): install the Debian package libopenblas0-pthread",
                target.display()
            );
        }
        std::fs::remove_file(&path)?;
        std::os::unix::fs::symlink(&target, &path)
            .with_context(|| format!("linking {} to {}", path.display(), target.display()))?;
        swapped += 1;
    }
    if swapped != 2 {
        bail!("expected the wheel to bundle libblas and liblapack, found {swapped} of them");
    }
    Ok(())
}

/// Why the install would not run on OpenBLAS, if it would not.
pub fn blas_problem(install: &CpuInstall) -> Option<String> {
    let libs = install.dir.join("mlx_cpu.libs");
    let entries = std::fs::read_dir(&libs).ok()?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name()?.to_string_lossy().into_owned();
        if !(name.starts_with("libblas-") || name.starts_with("liblapack-")) {
            continue;
        }
        match std::fs::read_link(&path) {
            Err(_) => {
                return Some(format!(
                    "{} is the wheel's slow reference BLAS, not OpenBLAS",
                    path.display()
                ));
            }
            Ok(target) if !target.exists() => {
                return Some(format!(
                    "{} points at {}, which is missing (install libopenblas0-pthread)",
                    path.display(),
                    target.display()
                ));
            }
            Ok(_) => {}
        }
    }
    None
}

fn install_cuda(home: &Home, force: bool) -> Result<()> {
    let dest = home.cuda();
    if dest.is_installed() && !force {
        status(
            "Fresh",
            format!("MLX {MLX_VERSION} (CUDA 13) at {}", dest.dir.display()),
        );
        return Ok(());
    }
    let wheels = wheel::fetch(&wheel::cuda(), &home.downloads(), true)?;
    let name = dest
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = staging_dir(home, &name)?;
    let staged = crate::home::CudaInstall {
        dir: staging.clone(),
    };
    for w in &wheels {
        status(
            "Unpacking",
            w.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
        );
        wheel::unpack(w, &staged.site())?;
    }
    if !staged.mlx_lib().join("libmlx.so").is_file() {
        bail!("the CUDA wheel did not contain mlx/lib/libmlx.so");
    }
    crate::process::write_atomically(&staged.stamp(), b"complete\n")?;
    commit(&staging, &dest.dir)?;
    status(
        "Installed",
        format!("MLX {MLX_VERSION} (CUDA 13) at {}", dest.dir.display()),
    );
    Ok(())
}

//! Builds mlx-c and mlx-sys's bindings against the wheel's MLX, once per
//! install, and checks the result the way user crates will use it.
//!
//! mlx-sys 0.7.0's build script compiles mlx-c with CMake and generates
//! bindings with bindgen. On Linux with the wheel's MLX that takes three
//! fixes, all applied here and nowhere else:
//! 1. a CMake toolchain file makes mlx-c use the wheel's MLX instead of
//!    cloning MLX from GitHub (`assets/mlx-c-linux.cmake`);
//! 2. a header force-included into mlx-c gives GCC 12 a minimal `std::format`
//!    and enables the float16/bfloat16 entry points on x86_64
//!    (`assets/mlx_c_compat.h`), with matching defines for bindgen;
//! 3. mlx-sys's macOS link lines are rewritten for this build (`wrapper.rs`).
//!
//! The bindings and `libmlxc.a` are then kept in the install, and user
//! crates replace mlx-sys's build script by them (`config.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::home::{CpuInstall, LINUX_TARGET, MLX_SYS_VERSION};
use crate::process::{output, run, status};

const TOOLCHAIN: &str = include_str!("../assets/mlx-c-linux.cmake");
const COMPAT_CMAKE: &str = include_str!("../assets/mlx-c-compat.cmake");
const COMPAT_HEADER: &str = include_str!("../assets/mlx_c_compat.h");
const PROBE: &str = include_str!("../probe/main.rs");
/// The versions mithril is tested with, so the build dependencies of
/// mlx-sys (bindgen, cmake) resolve to those.
const LOCKFILE: &str = include_str!("../../Cargo.lock");

/// bindgen's C parse of mlx-c: take `half.h`'s float16/bfloat16 branch on
/// x86_64 (clang's `arm_fp16.h` gives `typedef __fp16 float16_t`, which
/// bindgen wraps as a 16-bit value; bfloat16 is carried as its 16-bit storage).
const BINDGEN_ARGS: &str =
    "-D__ARM_FEATURE_FP16_SCALAR_ARITHMETIC -D__ARM_FEATURE_BF16 '-D__bf16=unsigned short'";

fn target_env(name: &str) -> String {
    format!("{name}_{}", LINUX_TARGET.replace('-', "_"))
}

/// A cargo command in `scratch` that sees no flags or wrappers from the
/// caller's environment (they would change how mlx-sys builds or links).
fn cargo(scratch: &Path) -> Command {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(scratch)
        .env("CARGO_TARGET_DIR", scratch.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER");
    cargo
}

/// Builds mlx-c and the bindings into `install` (whose wheel is unpacked),
/// then builds and runs the probe against it. `scratch` is a fresh directory.
pub fn build(install: &CpuInstall, scratch: &Path) -> Result<()> {
    write_scratch_project(scratch)?;

    status(
        "Building",
        format!("mlx-c and mlx-sys {MLX_SYS_VERSION}'s bindings against the wheel's MLX"),
    );
    let exe = std::env::current_exe().context("locating cargo-mithril")?;
    run(cargo(scratch)
        .args(["build", "--release", "-p", "mlx-sys"])
        .env("RUSTC_WRAPPER", &exe)
        .env(crate::wrapper::WRAPPER_ENV, install.mlx_lib())
        .env("MITHRIL_MLX_WHEEL", &install.dir)
        .env(
            target_env("CMAKE_TOOLCHAIN_FILE"),
            scratch.join("cmake/mlx-c-linux.cmake"),
        )
        .env(target_env("BINDGEN_EXTRA_CLANG_ARGS"), BINDGEN_ARGS))
    .context("building mlx-sys (mlx-c and its bindings)")?;

    let out_dir = mlx_sys_out_dir(&scratch.join("target/release/build"))?;
    std::fs::create_dir_all(install.mlxc_lib())?;
    copy(
        &out_dir.join("bindings.rs"),
        &install.bindings_dir().join("bindings.rs"),
    )?;
    copy(
        &out_dir.join("build/lib/libmlxc.a"),
        &install.mlxc_lib().join("libmlxc.a"),
    )?;

    status("Checking", "a program linked against the install");
    let config = crate::config::merge("", install).map_err(|c| anyhow::anyhow!(c.0))?;
    crate::process::write_atomically(&scratch.join(".cargo/config.toml"), config.as_bytes())?;
    let report = output(cargo(scratch).args(["run", "--release", "--quiet"]))
        .context("the probe program built against the install failed")?;
    let report = report.trim();
    if !report.contains("matmul=ok") {
        bail!("the probe program reported: {report}");
    }
    if !report.contains("blas=openblas") {
        bail!("the probe program did not load OpenBLAS: {report}");
    }
    status("Checked", report.trim_start_matches("mithril-probe "));
    Ok(())
}

fn write_scratch_project(scratch: &Path) -> Result<()> {
    let manifest = format!(
        "[package]\nname = \"mithril-setup-probe\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nmlx-sys = {{ version = \"={MLX_SYS_VERSION}\", default-features = false }}\n\n\
         # Not part of any enclosing workspace.\n[workspace]\n"
    );
    let files: [(&str, &str); 6] = [
        ("Cargo.toml", &manifest),
        ("Cargo.lock", LOCKFILE),
        ("src/main.rs", PROBE),
        ("cmake/mlx-c-linux.cmake", TOOLCHAIN),
        ("cmake/mlx-c-compat.cmake", COMPAT_CMAKE),
        ("cmake/mlx_c_compat.h", COMPAT_HEADER),
    ];
    for (name, text) in files {
        let path = scratch.join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(scratch))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The `OUT_DIR` of mlx-sys's build script in a fresh target directory.
fn mlx_sys_out_dir(build: &Path) -> Result<PathBuf> {
    let entries =
        std::fs::read_dir(build).with_context(|| format!("reading {}", build.display()))?;
    for entry in entries {
        let out = entry?.path().join("out");
        let is_mlx_sys = out
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n.to_string_lossy().starts_with("mlx-sys-"));
        if is_mlx_sys && out.join("bindings.rs").is_file() {
            return Ok(out);
        }
    }
    bail!("mlx-sys's build left no bindings under {}", build.display())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

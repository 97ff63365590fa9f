//! Where MLX is installed for this user, and what mithril expects there.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub use mithril_install::{MLX_SYS_VERSION, MLX_VERSION};

/// The only target the install serves (the wheels are x86_64 Linux builds).
pub const LINUX_TARGET: &str = "x86_64-unknown-linux-gnu";

/// The per-user directory holding MLX installs and downloads.
pub struct Home {
    pub root: PathBuf,
    /// Where the location came from, for `doctor`.
    pub origin: &'static str,
}

impl Home {
    /// `$MITHRIL_HOME`, else `$XDG_DATA_HOME/mithril`, else
    /// `~/.local/share/mithril` (the XDG default).
    pub fn locate() -> Result<Home> {
        let absolute = |p: PathBuf| -> Result<PathBuf> {
            if p.is_absolute() {
                Ok(p)
            } else {
                Ok(std::env::current_dir()?.join(p))
            }
        };
        if let Some(dir) = std::env::var_os("MITHRIL_HOME").filter(|d| !d.is_empty()) {
            return Ok(Home {
                root: absolute(dir.into())?,
                origin: "MITHRIL_HOME",
            });
        }
        if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
            return Ok(Home {
                root: absolute(PathBuf::from(dir).join("mithril"))?,
                origin: "$XDG_DATA_HOME/mithril",
            });
        }
        let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) else {
            bail!(
                "neither MITHRIL_HOME nor HOME is set: set MITHRIL_HOME to where MLX should be installed"
            );
        };
        Ok(Home {
            root: PathBuf::from(home).join(".local/share/mithril"),
            origin: "~/.local/share/mithril",
        })
    }

    /// The CPU install: the wheel's MLX with OpenBLAS, and mlx-c built against it.
    pub fn cpu(&self) -> CpuInstall {
        CpuInstall {
            dir: self.root.join(format!("mlx-cpu-{MLX_VERSION}")),
        }
    }

    /// MLX's CUDA build with its NVIDIA libraries.
    pub fn cuda(&self) -> CudaInstall {
        CudaInstall {
            dir: self.root.join(format!("mlx-cuda-13-{MLX_VERSION}")),
        }
    }

    /// Downloaded wheels, kept so a reinstall needs no network.
    pub fn downloads(&self) -> PathBuf {
        self.root.join("downloads")
    }

    /// Serialises installs: two `setup`s at once take turns.
    pub fn lock(&self) -> Result<File> {
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("creating {}", self.root.display()))?;
        let path = self.root.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.lock()
            .with_context(|| format!("locking {}", path.display()))?;
        Ok(file)
    }
}

/// The CPU install's layout. The directory appears only when complete
/// (setup builds it elsewhere and renames it into place).
pub struct CpuInstall {
    pub dir: PathBuf,
}

impl CpuInstall {
    pub fn at(dir: &Path) -> CpuInstall {
        CpuInstall {
            dir: dir.to_path_buf(),
        }
    }

    /// `libmlx.so`'s directory.
    pub fn mlx_lib(&self) -> PathBuf {
        self.dir.join("mlx/lib")
    }

    /// mlx-sys's generated `bindings.rs` (mlx-sys reads it from `OUT_DIR`).
    pub fn bindings_dir(&self) -> PathBuf {
        self.dir.join(format!("mlx-sys-{MLX_SYS_VERSION}"))
    }

    /// `libmlxc.a`'s directory.
    pub fn mlxc_lib(&self) -> PathBuf {
        self.bindings_dir().join("lib")
    }
}

/// The CUDA install's layout: wheels unpacked side by side (as pip would into
/// site-packages), so libmlx.so's RPATH finds the NVIDIA libraries.
pub struct CudaInstall {
    pub dir: PathBuf,
}

impl CudaInstall {
    pub fn site(&self) -> PathBuf {
        self.dir.join("site")
    }

    pub fn mlx_lib(&self) -> PathBuf {
        self.site().join("mlx/lib")
    }

    /// CUDA headers for MLX's run-time kernel compiler: the wheel's own
    /// (nvidia-cuda-nvcc/-runtime), else a system CUDA.
    pub fn cuda_home(&self) -> PathBuf {
        let bundled = self.site().join("nvidia/cu13");
        if bundled.join("include").is_dir() {
            bundled
        } else {
            PathBuf::from("/usr/local/cuda")
        }
    }

    pub fn stamp(&self) -> PathBuf {
        self.dir.join(".mithril-ready")
    }

    pub fn is_installed(&self) -> bool {
        self.stamp().is_file() && self.mlx_lib().join("libmlx.so").is_file()
    }
}

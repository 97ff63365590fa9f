//! Writing and verifying an install's manifest (its format and the cheap
//! check builds run are in the `mithril-install` crate); here the sha256s.

use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use mithril_install::{MLX_SYS_VERSION, MLX_VERSION, Manifest, Problem, Recorded};
use sha2::{Digest, Sha256};

use crate::home::CpuInstall;

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buffer)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        }))
}

/// Writes the manifest of the install being built at `dir` (its last step).
pub fn write_manifest(dir: &Path, wheel_name: &str, wheel_sha256: &str) -> Result<()> {
    let mut files = Vec::new();
    for path in mithril_install::recorded_files() {
        let full = dir.join(&path);
        let size = std::fs::metadata(&full)
            .with_context(|| format!("{} is missing", full.display()))?
            .len();
        files.push(Recorded {
            size,
            sha256: sha256_file(&full)?,
            path,
        });
    }
    let manifest = Manifest {
        mlx: MLX_VERSION.into(),
        mlx_sys: MLX_SYS_VERSION.into(),
        wheel: (wheel_name.into(), wheel_sha256.into()),
        files,
    };
    crate::process::write_atomically(
        &dir.join(mithril_install::MANIFEST_NAME),
        manifest.render().as_bytes(),
    )
}

/// Checks the install: manifest, versions and sizes; with `hashes`, also
/// every recorded file's sha256.
pub fn verify(install: &CpuInstall, hashes: bool) -> Result<Manifest, Problem> {
    let manifest = mithril_install::check(&install.dir)?;
    if hashes {
        for file in &manifest.files {
            let path = install.dir.join(&file.path);
            let actual = sha256_file(&path).map_err(|e| Problem::Damaged(format!("{e:#}")))?;
            if actual != file.sha256 {
                return Err(Problem::Damaged(format!(
                    "{} does not have the sha256 the install recorded",
                    path.display()
                )));
            }
        }
    }
    Ok(manifest)
}

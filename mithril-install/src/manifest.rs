//! The manifest of the MLX install that `cargo mithril setup` makes on Linux
//! x86_64, as cargo-mithril writes it and as mithril-mlx's build script
//! checks it.
//!
//! The install's manifest is written last, so its presence means the install
//! is complete. It records the versions and every file builds use, with its
//! size and sha256. The format is line-based, read without dependencies:
//!
//! ```text
//! mithril-install 1
//! mlx 0.32.2
//! mlx-sys 0.7.0
//! wheel <file name> <sha256>
//! file <size> <sha256> <path relative to the install>
//! ```

use std::fmt;
use std::path::Path;

/// The MLX release mlx-sys 0.7.0 (mlx-rs 0.33) is written against.
pub const MLX_VERSION: &str = "0.32.2";
/// The mlx-sys release mithril depends on; its bindings are built at setup.
pub const MLX_SYS_VERSION: &str = "0.7.0";
/// The manifest's file name, in the install's directory.
pub const MANIFEST_NAME: &str = "mithril-install.txt";

/// The files of an install that builds and programs use, relative to it.
pub fn recorded_files() -> [String; 3] {
    [
        "mlx/lib/libmlx.so".to_string(),
        format!("mlx-sys-{MLX_SYS_VERSION}/bindings.rs"),
        format!("mlx-sys-{MLX_SYS_VERSION}/lib/libmlxc.a"),
    ]
}

/// One recorded file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// Its size in bytes.
    pub size: u64,
    /// Its sha256, in lowercase hex.
    pub sha256: String,
    /// Its path relative to the install.
    pub path: String,
}

/// An install's manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// MLX's version.
    pub mlx: String,
    /// mlx-sys's version.
    pub mlx_sys: String,
    /// The wheel it was made from and its sha256.
    pub wheel: (String, String),
    /// Every recorded file.
    pub files: Vec<Recorded>,
}

impl Manifest {
    /// The manifest's text.
    pub fn render(&self) -> String {
        let mut text = String::from(
            "# Written by `cargo mithril setup` when this install was complete. Do not edit.\n",
        );
        text += "mithril-install 1\n";
        text += &format!("mlx {}\nmlx-sys {}\n", self.mlx, self.mlx_sys);
        text += &format!("wheel {} {}\n", self.wheel.0, self.wheel.1);
        for f in &self.files {
            text += &format!("file {} {} {}\n", f.size, f.sha256, f.path);
        }
        text
    }

    /// Reads a manifest's text.
    pub fn parse(text: &str) -> Result<Manifest, Problem> {
        let bad = |line: &str| Problem::Damaged(format!("bad manifest line `{line}`"));
        let mut manifest = Manifest {
            mlx: String::new(),
            mlx_sys: String::new(),
            wheel: (String::new(), String::new()),
            files: Vec::new(),
        };
        let mut format_seen = false;
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let mut words = line.splitn(4, ' ');
            match (words.next(), words.next(), words.next(), words.next()) {
                (Some("mithril-install"), Some("1"), None, None) => format_seen = true,
                (Some("mlx"), Some(v), None, None) => manifest.mlx = v.to_string(),
                (Some("mlx-sys"), Some(v), None, None) => manifest.mlx_sys = v.to_string(),
                (Some("wheel"), Some(name), Some(sha), None) => {
                    manifest.wheel = (name.to_string(), sha.to_string())
                }
                (Some("file"), Some(size), Some(sha256), Some(path)) => {
                    manifest.files.push(Recorded {
                        size: size.parse().map_err(|_| bad(line))?,
                        sha256: sha256.to_string(),
                        path: path.to_string(),
                    })
                }
                _ => return Err(bad(line)),
            }
        }
        if !format_seen {
            return Err(Problem::Damaged("the manifest has no format line".into()));
        }
        Ok(manifest)
    }
}

/// What is wrong with an install.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// No manifest: never installed, or interrupted before it finished.
    Missing,
    /// Made for other versions.
    Version {
        /// The install's MLX version.
        mlx: String,
        /// The install's mlx-sys version.
        mlx_sys: String,
    },
    /// A recorded file is gone or differs, or the manifest is unreadable.
    Damaged(String),
}

impl Problem {
    /// The command that fixes it.
    pub fn fix(&self) -> &'static str {
        match self {
            Problem::Missing | Problem::Version { .. } => "cargo mithril setup",
            Problem::Damaged(_) => "cargo mithril setup --force",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => f.write_str("not installed"),
            Problem::Version { mlx, mlx_sys } => write!(
                f,
                "made for MLX {mlx} and mlx-sys {mlx_sys}, but this mithril needs MLX {MLX_VERSION} and mlx-sys {MLX_SYS_VERSION}"
            ),
            Problem::Damaged(what) => write!(f, "damaged: {what}"),
        }
    }
}

/// Checks the install at `dir` cheaply: its manifest, the versions, and that
/// every recorded file is there with its recorded size.
pub fn check(dir: &Path) -> Result<Manifest, Problem> {
    let Ok(text) = std::fs::read_to_string(dir.join(MANIFEST_NAME)) else {
        return Err(Problem::Missing);
    };
    let manifest = Manifest::parse(&text)?;
    if manifest.mlx != MLX_VERSION || manifest.mlx_sys != MLX_SYS_VERSION {
        return Err(Problem::Version {
            mlx: manifest.mlx,
            mlx_sys: manifest.mlx_sys,
        });
    }
    for expected in recorded_files() {
        if !manifest.files.iter().any(|f| f.path == expected) {
            return Err(Problem::Damaged(format!(
                "the manifest does not list {expected}"
            )));
        }
    }
    for file in &manifest.files {
        let path = dir.join(&file.path);
        match std::fs::metadata(&path) {
            Err(_) => return Err(Problem::Damaged(format!("{} is missing", path.display()))),
            Ok(m) if m.len() != file.size => {
                return Err(Problem::Damaged(format!(
                    "{} has {} bytes, the install recorded {}",
                    path.display(),
                    m.len(),
                    file.size
                )));
            }
            Ok(_) => {}
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            mlx: MLX_VERSION.into(),
            mlx_sys: MLX_SYS_VERSION.into(),
            wheel: ("mlx.whl".into(), "ab".repeat(32)),
            files: recorded_files()
                .into_iter()
                .map(|path| Recorded {
                    size: 3,
                    sha256: "cd".repeat(32),
                    path,
                })
                .collect(),
        }
    }

    #[test]
    fn a_manifest_reads_back_as_written() {
        let m = manifest();
        assert_eq!(Manifest::parse(&m.render()), Ok(m));
    }

    #[test]
    fn garbage_is_damage_not_a_panic() {
        for text in ["", "mithril-install 1\nfile x y z\n", "mlx\n", "\u{0}\u{1}"] {
            assert!(
                matches!(Manifest::parse(text), Err(Problem::Damaged(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn an_install_is_checked_for_versions_and_sizes() {
        let dir = std::env::temp_dir().join(format!("mithril-install-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(check(&dir), Err(Problem::Missing));
        for path in recorded_files() {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"abc").unwrap();
        }
        std::fs::write(dir.join(MANIFEST_NAME), manifest().render()).unwrap();
        assert!(check(&dir).is_ok());
        std::fs::write(dir.join("mlx/lib/libmlx.so"), b"ab").unwrap();
        assert!(matches!(check(&dir), Err(Problem::Damaged(_))));
        let mut old = manifest();
        old.mlx = "0.30.0".into();
        std::fs::write(dir.join(MANIFEST_NAME), old.render()).unwrap();
        assert!(matches!(check(&dir), Err(Problem::Version { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

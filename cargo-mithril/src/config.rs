//! The project-local cargo configuration that makes a crate build against
//! the installed MLX on Linux x86_64. Every entry is keyed to that target, so
//! on macOS (where mlx-sys builds MLX with Metal) it is inert:
//!
//! ```toml
//! [target.x86_64-unknown-linux-gnu]
//! rustflags = ["-C", "link-arg=-Wl,-rpath,<install>/mlx/lib"]
//! rustdocflags = ["-C", "link-arg=-Wl,-rpath,<install>/mlx/lib"]
//!
//! [target.x86_64-unknown-linux-gnu.mlx]      # overrides mlx-sys's build script
//! rustc-link-search = ["native=<install>/mlx-sys-0.7.0/lib", "native=<install>/mlx/lib"]
//! rustc-link-lib = ["static=mlxc", "dylib=mlx", "dylib=stdc++"]
//! rustc-env = { OUT_DIR = "<install>/mlx-sys-0.7.0" }
//! mithril-install = "<install>"
//! ```
//!
//! mlx-sys declares `links = "mlx"`, so cargo replaces its build script by
//! the `[target.<triple>.mlx]` table: no CMake, no bindgen, no clone of MLX.
//! `OUT_DIR` is where mlx-sys includes its bindings from; the rpath lets
//! programs, tests and doctests find libmlx.so without `LD_LIBRARY_PATH`;
//! `mithril-install` reaches mithril-mlx's build script as
//! `DEP_MLX_MITHRIL_INSTALL`, which checks the install before anything links.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value};

use crate::home::{CpuInstall, LINUX_TARGET};

/// The `links` name of mlx-sys.
const LINKS: &str = "mlx";
/// The key that marks the override table as ours.
const MARKER: &str = "mithril-install";

/// The managed entries for an install.
struct Entries {
    flags: Vec<String>,
    link_search: Vec<String>,
    link_lib: Vec<String>,
    out_dir: String,
    install: String,
}

fn entries(install: &CpuInstall) -> Entries {
    let lib = install.mlx_lib().display().to_string();
    Entries {
        flags: vec!["-C".into(), format!("link-arg=-Wl,-rpath,{lib}")],
        link_search: vec![
            format!("native={}", install.mlxc_lib().display()),
            format!("native={lib}"),
        ],
        link_lib: vec![
            "static=mlxc".into(),
            "dylib=mlx".into(),
            "dylib=stdc++".into(),
        ],
        out_dir: install.bindings_dir().display().to_string(),
        install: install.dir.display().to_string(),
    }
}

/// The configuration as a standalone file (what to add by hand).
pub fn snippet(install: &CpuInstall) -> String {
    merge("", install).unwrap_or_default()
}

/// Why the configuration cannot be merged without changing what the user's
/// own settings mean.
#[derive(Debug)]
pub struct Conflict(pub String);

/// Whether `flag`, at `i` in a flag list, is a managed rpath to an
/// `mlx/lib` directory (an earlier install's or this one's).
fn is_managed_rpath(flag: &str) -> bool {
    let arg = flag.strip_prefix("-C").unwrap_or(flag);
    arg.starts_with("link-arg=-Wl,-rpath,") && arg.trim_end_matches('/').ends_with("/mlx/lib")
}

/// `existing` flags with any earlier managed rpath removed and ours appended.
fn merged_flags(existing: &[String], ours: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < existing.len() {
        let flag = &existing[i];
        if flag == "-C" && existing.get(i + 1).is_some_and(|f| is_managed_rpath(f)) {
            i += 2;
            continue;
        }
        if flag.starts_with("-C") && flag.len() > 2 && is_managed_rpath(flag) {
            i += 1;
            continue;
        }
        out.push(flag.clone());
        i += 1;
    }
    out.extend(ours.iter().cloned());
    out
}

/// A flag list as cargo reads it: an array, or a string split on spaces.
fn flags_of(item: &Item) -> Option<Vec<String>> {
    match item.as_value()? {
        Value::String(s) => Some(s.value().split_whitespace().map(String::from).collect()),
        Value::Array(a) => a.iter().map(|v| v.as_str().map(String::from)).collect(),
        _ => None,
    }
}

fn string_array(items: &[String]) -> Array {
    items.iter().map(String::as_str).collect()
}

/// `existing` (a `.cargo/config.toml`, possibly empty) with the managed
/// entries for `install` merged in; the user's other settings, comments and
/// layout are kept.
pub fn merge(existing: &str, install: &CpuInstall) -> std::result::Result<String, Conflict> {
    let mut doc: DocumentMut = existing.parse().map_err(|e| {
        Conflict(format!(
            "it is not valid TOML ({e}); fix it, then run `cargo mithril init` again"
        ))
    })?;
    let ours = entries(install);

    if doc.get("build").and_then(|b| b.get("rustflags")).is_some() {
        return Err(Conflict(format!(
            "it sets `build.rustflags`, which cargo ignores once `target.{LINUX_TARGET}.rustflags` is set; \
             move those flags into `[target.{LINUX_TARGET}] rustflags` (mithril's entries go there too)"
        )));
    }

    let targets = doc
        .entry("target")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| Conflict("its `target` is not a table".into()))?;
    let fresh = !targets.contains_key(LINUX_TARGET);
    let target = targets
        .entry(LINUX_TARGET)
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .ok_or_else(|| Conflict(format!("its `target.{LINUX_TARGET}` is not a table")))?;
    if fresh {
        target.decor_mut().set_prefix(
            "\n# mithril on Linux x86_64: link against the MLX that `cargo mithril setup`\n\
             # installed. `cargo mithril init` rewrites these entries (docs/building.md).\n",
        );
    }
    for key in ["rustflags", "rustdocflags"] {
        let existing = match target.get(key) {
            None => Vec::new(),
            Some(item) => flags_of(item).ok_or_else(|| {
                Conflict(format!(
                    "its `target.{LINUX_TARGET}.{key}` is not a list of flags"
                ))
            })?,
        };
        target[key] = toml_edit::value(string_array(&merged_flags(&existing, &ours.flags)));
    }

    if let Some(table) = target.get(LINKS)
        && table.get(MARKER).is_none()
    {
        return Err(Conflict(format!(
            "it already overrides mlx-sys's build script (`[target.{LINUX_TARGET}.{LINKS}]`) without `{MARKER}`; \
             replace that table with mithril's"
        )));
    }
    let mut table = Table::new();
    table.decor_mut().set_prefix(
        "\n# Replaces mlx-sys's build script: its bindings, libmlxc.a and libmlx.so come\n\
         # from the install (no CMake, no bindgen, no clone of MLX).\n",
    );
    table["rustc-link-search"] = toml_edit::value(string_array(&ours.link_search));
    table["rustc-link-lib"] = toml_edit::value(string_array(&ours.link_lib));
    let mut env = InlineTable::new();
    env.insert("OUT_DIR", ours.out_dir.into());
    table["rustc-env"] = toml_edit::value(env);
    table[MARKER] = toml_edit::value(ours.install);
    target.insert(LINKS, Item::Table(table));
    Ok(doc.to_string())
}

/// The cargo configuration file of a crate or workspace root: the legacy
/// `.cargo/config` when only that exists, else `.cargo/config.toml`.
pub fn path_in(root: &Path) -> PathBuf {
    let legacy = root.join(".cargo/config");
    if legacy.is_file() && !root.join(".cargo/config.toml").exists() {
        legacy
    } else {
        root.join(".cargo/config.toml")
    }
}

/// What `write` did.
pub enum Written {
    Created(PathBuf),
    Updated(PathBuf),
    Unchanged(PathBuf),
}

/// Merges the managed entries into `root`'s cargo configuration, atomically.
/// A conflict changes nothing and is returned with what to add by hand.
pub fn write(root: &Path, install: &CpuInstall) -> Result<std::result::Result<Written, Conflict>> {
    let path = path_in(root);
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let merged = match merge(existing.as_deref().unwrap_or(""), install) {
        Ok(m) => m,
        Err(conflict) => return Ok(Err(conflict)),
    };
    let merged = merged.trim_start().to_string();
    if existing.as_deref() == Some(merged.as_str()) {
        return Ok(Ok(Written::Unchanged(path)));
    }
    crate::process::write_atomically(&path, merged.as_bytes())?;
    Ok(Ok(match existing {
        None => Written::Created(path),
        Some(_) => Written::Updated(path),
    }))
}

/// The install a crate's configuration points at, if it has the managed table.
pub fn configured_install(root: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(path_in(root)).ok()?;
    let doc: DocumentMut = text.parse().ok()?;
    doc.get("target")?
        .get(LINUX_TARGET)?
        .get(LINKS)?
        .get(MARKER)?
        .as_str()
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install() -> CpuInstall {
        CpuInstall::at(Path::new("/home/u/.local/share/mithril/mlx-cpu-0.32.2"))
    }

    #[test]
    fn an_empty_config_gets_every_entry() {
        let text = merge("", &install()).unwrap();
        let doc: DocumentMut = text.parse().unwrap();
        let target = &doc["target"][LINUX_TARGET];
        assert_eq!(
            flags_of(&target["rustflags"]).unwrap(),
            [
                "-C",
                "link-arg=-Wl,-rpath,/home/u/.local/share/mithril/mlx-cpu-0.32.2/mlx/lib"
            ]
        );
        assert_eq!(
            target["mlx"]["rustc-env"]["OUT_DIR"].as_str(),
            Some("/home/u/.local/share/mithril/mlx-cpu-0.32.2/mlx-sys-0.7.0")
        );
        assert!(
            !text.contains("[target]\n"),
            "no empty [target] header:\n{text}"
        );
    }

    #[test]
    fn the_users_settings_and_comments_are_kept() {
        let existing = "# my settings\n[alias]\nb = \"build\"\n\n[target.x86_64-unknown-linux-gnu]\nlinker = \"clang\"\nrustflags = \"-C target-cpu=native\"\n";
        let text = merge(existing, &install()).unwrap();
        assert!(
            text.starts_with("# my settings\n[alias]\nb = \"build\""),
            "{text}"
        );
        let doc: DocumentMut = text.parse().unwrap();
        let target = &doc["target"][LINUX_TARGET];
        assert_eq!(target["linker"].as_str(), Some("clang"));
        let flags = flags_of(&target["rustflags"]).unwrap();
        assert_eq!(&flags[..2], ["-C", "target-cpu=native"]);
        assert_eq!(flags.len(), 4);
    }

    #[test]
    fn merging_twice_or_after_a_move_keeps_one_rpath() {
        let first = merge("", &install()).unwrap();
        assert_eq!(merge(&first, &install()).unwrap(), first);
        let moved = CpuInstall::at(Path::new("/opt/mithril/mlx-cpu-0.32.2"));
        let text = merge(&first, &moved).unwrap();
        assert_eq!(text.matches("-rpath").count(), 2, "{text}");
        assert!(!text.contains("/home/u/"), "{text}");
    }

    #[test]
    fn build_rustflags_is_a_conflict_not_a_silent_change() {
        let err = merge("[build]\nrustflags = [\"-Dwarnings\"]\n", &install()).unwrap_err();
        assert!(err.0.contains("build.rustflags"), "{}", err.0);
    }

    #[test]
    fn someone_elses_mlx_override_is_a_conflict() {
        let existing = "[target.x86_64-unknown-linux-gnu.mlx]\nrustc-link-lib = [\"mlx\"]\n";
        assert!(merge(existing, &install()).is_err());
    }

    #[test]
    fn invalid_toml_is_a_conflict() {
        assert!(merge("[target\n", &install()).is_err());
    }

    #[test]
    fn the_install_is_read_back() {
        let dir = std::env::temp_dir().join(format!("mithril-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(matches!(
            write(&dir, &install()).unwrap(),
            Ok(Written::Created(_))
        ));
        assert!(matches!(
            write(&dir, &install()).unwrap(),
            Ok(Written::Unchanged(_))
        ));
        assert_eq!(configured_install(&dir), Some(install().dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! `cargo mithril new` and `cargo mithril init`: crates that use mithril and
//! build with plain `cargo build`, `cargo run` and `cargo test`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use toml_edit::{DocumentMut, InlineTable, Item, Table};

use crate::config::Written;
use crate::home::Home;
use crate::process::{output, run, status, warn};
use crate::setup::{Platform, platform};

const TEMPLATE_MAIN: &str = include_str!("../templates/main.rs");

/// Where the `mithril` dependency comes from.
pub enum DependencySource {
    /// A local checkout.
    Path(PathBuf),
    /// A git repository.
    Git(String),
}

/// The checkout this cargo-mithril was installed from, if it is still there:
/// the default dependency of `new`.
fn own_checkout() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    manifest
        .parse::<DocumentMut>()
        .ok()?
        .get("package")?
        .get("name")?
        .as_str()
        .is_some_and(|n| n == "mithril")
        .then(|| dir.to_path_buf())
}

fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    })
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn dependency_item(source: &DependencySource) -> Result<Item> {
    let mut dep = InlineTable::new();
    match source {
        DependencySource::Path(dir) => {
            let dir = absolute(dir)?;
            if !dir.join("Cargo.toml").is_file() {
                bail!(
                    "{} is not a mithril checkout (it has no Cargo.toml)",
                    dir.display()
                );
            }
            dep.insert("path", dir.display().to_string().into());
        }
        DependencySource::Git(url) => {
            dep.insert("git", url.as_str().into());
        }
    }
    Ok(toml_edit::value(dep))
}

/// Adds `mithril` to `[dependencies]` unless it is there; returns whether it added it.
fn add_dependency(doc: &mut DocumentMut, source: &DependencySource) -> Result<bool> {
    let deps = doc
        .entry("dependencies")
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_like_mut()
        .context("[dependencies] is not a table")?;
    if deps.contains_key("mithril") {
        return Ok(false);
    }
    deps.insert("mithril", dependency_item(source)?);
    Ok(true)
}

/// The profiles a new crate starts with (those mithril's own tests use).
const PROFILES: &str = "
# MLX does the numeric work in its own optimised library; optimising the
# Rust dependencies too keeps debug builds quick at run time.
[profile.dev.package.\"*\"]
opt-level = 2

[profile.dev]
debug = \"line-tables-only\"
";

fn read_manifest(path: &Path) -> Result<DocumentMut> {
    std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))?
        .parse()
        .with_context(|| format!("parsing {}", path.display()))
}

/// `cargo mithril new PATH`: `cargo new`, then mithril, a model, a training
/// loop, a test and the cargo configuration.
pub fn new(path: &Path, name: Option<&str>, source: Option<DependencySource>) -> Result<()> {
    let source = match source {
        Some(s) => s,
        None => DependencySource::Path(own_checkout().context(
            "say where mithril comes from: --mithril-path DIR (a checkout) or --mithril-git URL",
        )?),
    };
    let root = absolute(path)?;
    let mut cargo_new = cargo();
    cargo_new.arg("new").arg("--bin").arg(&root);
    if let Some(name) = name {
        cargo_new.args(["--name", name]);
    }
    run(&mut cargo_new)?;

    let manifest_path = root.join("Cargo.toml");
    let mut manifest = read_manifest(&manifest_path)?;
    add_dependency(&mut manifest, &source)?;
    let manifest = format!("{manifest}{PROFILES}");
    crate::process::write_atomically(&manifest_path, manifest.as_bytes())?;
    crate::process::write_atomically(&root.join("src/main.rs"), TEMPLATE_MAIN.as_bytes())?;
    // Start from the dependency versions mithril itself is tested with.
    if let DependencySource::Path(dir) = &source {
        let lock = absolute(dir)?.join("Cargo.lock");
        if lock.is_file() {
            std::fs::copy(&lock, root.join("Cargo.lock"))
                .with_context(|| format!("copying {}", lock.display()))?;
        }
    }
    configure(&root)?;
    status("Created", format!("a mithril crate at {}", root.display()));
    eprintln!(
        "\nNext:\n    cd {}\n    cargo run     # trains a small model on synthetic data\n    cargo test",
        root.display()
    );
    Ok(())
}

/// `cargo mithril init`: the cargo configuration for an existing crate (at
/// its workspace's root), and the dependency when a source is given.
pub fn init(dir: &Path, source: Option<DependencySource>) -> Result<()> {
    let dir = absolute(dir)?;
    let manifest_path = dir.join("Cargo.toml");
    if !manifest_path.is_file() {
        bail!(
            "{} has no Cargo.toml: run `cargo mithril init` in a crate (or `cargo mithril new PATH`)",
            dir.display()
        );
    }
    let mut manifest = read_manifest(&manifest_path)?;
    let package_name = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(Item::as_str)
        .map(str::to_string);
    match &source {
        Some(source) => {
            if add_dependency(&mut manifest, source)? {
                crate::process::write_atomically(&manifest_path, manifest.to_string().as_bytes())?;
                status("Added", "the `mithril` dependency to Cargo.toml");
            } else {
                warn("Cargo.toml already depends on `mithril`; left as it is");
            }
        }
        None => {
            let has_dependency = manifest
                .get("dependencies")
                .and_then(|d| d.get("mithril"))
                .is_some();
            if !has_dependency
                && package_name.as_deref() != Some("mithril")
                && manifest.get("workspace").is_none()
            {
                warn(
                    "Cargo.toml does not depend on `mithril` yet: add it, or run init with --mithril-path DIR or --mithril-git URL",
                );
            }
        }
    }
    let root = workspace_root(&dir).unwrap_or(dir);
    configure(&root)
}

/// The workspace root of the crate in `dir`, where cargo looks for
/// `.cargo/config.toml` when run anywhere in the workspace.
pub fn workspace_root(dir: &Path) -> Option<PathBuf> {
    let manifest = output(cargo().current_dir(dir).args([
        "locate-project",
        "--workspace",
        "--message-format",
        "plain",
    ]))
    .ok()?;
    Path::new(manifest.trim()).parent().map(Path::to_path_buf)
}

/// Writes (merges) the cargo configuration at `root` on Linux x86_64.
fn configure(root: &Path) -> Result<()> {
    if let Platform::MacOs = platform()? {
        status(
            "Skipping",
            "cargo configuration: on macOS mlx-sys builds MLX with Metal by itself",
        );
        return Ok(());
    }
    let cpu = Home::locate()?.cpu();
    if let Err(problem) = crate::install::verify(&cpu, false) {
        warn(format!(
            "MLX for mithril is {problem} at {}: run `cargo mithril setup` before building",
            cpu.dir.display()
        ));
    }
    match crate::config::write(root, &cpu)? {
        Ok(Written::Created(path)) => status("Created", path.display()),
        Ok(Written::Updated(path)) => status("Updated", path.display()),
        Ok(Written::Unchanged(path)) => status("Fresh", path.display()),
        Err(conflict) => bail!(
            "{} was left unchanged: {}.\nmithril's Linux build needs these entries in it:\n\n{}",
            crate::config::path_in(root).display(),
            conflict.0,
            crate::config::snippet(&cpu)
        ),
    }
    Ok(())
}

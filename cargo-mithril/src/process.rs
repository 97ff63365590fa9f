//! Running other programs, writing files atomically, and progress lines.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// A progress line on stderr, in cargo's style.
pub fn status(verb: &str, message: impl std::fmt::Display) {
    eprintln!("\x1b[1;32m{verb:>12}\x1b[0m {message}");
}

/// A warning on stderr.
pub fn warn(message: impl std::fmt::Display) {
    eprintln!("\x1b[1;33mwarning\x1b[0m: {message}");
}

/// Runs `command`, failing with its name and exit status if it fails.
pub fn run(command: &mut Command) -> Result<()> {
    let shown = describe(command);
    let status = command
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs `command` and returns its stdout, failing with its stderr if it fails.
pub fn output(command: &mut Command) -> Result<String> {
    let shown = describe(command);
    let out = command
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !out.status.success() {
        bail!(
            "`{shown}` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes `path` so that readers see the old content or the new, never a
/// part (`mithril_install::write_atomically`), making its directory first.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    mithril_install::write_atomically(path, contents)
        .with_context(|| format!("writing {}", path.display()))
}

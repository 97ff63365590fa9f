//! Writing a file atomically: into a temporary file in the same directory,
//! flushed to disk, renamed over the target, then the directory flushed so
//! the rename itself survives a crash. Until the rename a reader (or a
//! crash) sees the previous file, after it the new one, never a mix.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where [`write_atomically_observed`] is in its work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteStage {
    /// The temporary file holds the first half of the bytes.
    HalfWritten,
    /// The temporary file holds every byte and is flushed to disk; the
    /// target is untouched.
    Synced,
    /// The temporary file has been renamed over the target; the directory
    /// is not flushed yet.
    Renamed,
}

/// Writes `bytes` to `path` atomically (see the module's documentation).
/// The directory must exist. On failure the temporary file is removed and
/// `path` is as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_observed(path, bytes, |_| {})
}

/// [`write_atomically`], calling `reached` at each [`WriteStage`]: for tests
/// that stop a process in the middle of a write.
pub fn write_atomically_observed(
    path: &Path,
    bytes: &[u8],
    mut reached: impl FnMut(WriteStage),
) -> std::io::Result<()> {
    let temp = temporary_path(path);
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        let (first, rest) = bytes.split_at(bytes.len() / 2);
        file.write_all(first)?;
        reached(WriteStage::HalfWritten);
        file.write_all(rest)?;
        file.sync_all()?;
        reached(WriteStage::Synced);
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result?;
    reached(WriteStage::Renamed);
    sync_dir(parent_dir(path))
}

/// The temporary file a write of `path` goes through: `.NAME.<pid>-<n>.tmp`
/// beside it, unique to this process and this write.
fn temporary_path(path: &Path) -> PathBuf {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    parent_dir(path).join(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Flushes a directory's entries (a rename in it) to disk. Where directories
/// cannot be opened as files (Windows), there is nothing to do.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::File::open(dir) {
        Ok(d) => d.sync_all(),
        Err(_) if cfg!(windows) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mithril-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary_file() {
        let dir = scratch("replace");
        let path = dir.join("a.txt");
        std::fs::write(&path, b"old").unwrap();
        let mut stages = Vec::new();
        write_atomically_observed(&path, b"new contents", |s| stages.push(s)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
        assert_eq!(
            stages,
            [
                WriteStage::HalfWritten,
                WriteStage::Synced,
                WriteStage::Renamed
            ]
        );
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.txt"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_old_file_stands_until_the_rename() {
        let dir = scratch("stages");
        let path = dir.join("b.txt");
        std::fs::write(&path, b"old").unwrap();
        write_atomically_observed(&path, b"new", |stage| {
            let seen = std::fs::read(&path).unwrap();
            match stage {
                WriteStage::HalfWritten | WriteStage::Synced => assert_eq!(seen, b"old"),
                WriteStage::Renamed => assert_eq!(seen, b"new"),
            }
        })
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failed_write_is_an_error_and_changes_nothing() {
        let dir = scratch("missing");
        let path = dir.join("no-such-directory").join("c.txt");
        assert!(write_atomically(&path, b"x").is_err());
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

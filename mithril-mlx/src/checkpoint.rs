//! Checkpoints of a whole training run: everything
//! [`Trainer`](crate::train::Trainer) needs to continue exactly where a run
//! stopped, in one safetensors file written atomically.
//!
//! The file holds
//!
//! | tensors | what |
//! | --- | --- |
//! | `params.<path>` | every parameter and buffer (batch statistics), named as mlx.nn names them |
//! | `optimizer.<key>` | the optimizer's state, keyed as mlx-rs flattens it (`fc1.weight.0` and `.1`: Adam's moments) |
//! | `trainer.key` | the trainer's random key (dropout) |
//!
//! and, in the header's metadata, the format and its version, the model's
//! name, the optimizer's type, the steps taken, the [`Progress`] through the
//! data (epoch, batch, data seed, and the caller's own entries under
//! `user.`), and a CRC-32 over all of the above (metadata, names, dtypes,
//! shapes and bytes), so a truncated or bit-flipped file is an error rather
//! than a silently different run. Python MLX reads it with `mx.load(path,
//! return_metadata=True)`.
//!
//! [`Checkpoint::load`] reads and checks the file on its own (no MLX work);
//! [`Trainer::restore`](crate::train::Trainer::restore) then checks that it
//! fits the run (model, parameter layout and dtypes, optimizer type and state
//! layout) and only then replaces anything.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use mlx_rs::Array;
use safetensors::tensor::{Dtype as StDtype, SafeTensors};

use crate::error::{Error, Result};
use crate::io::{Bytes, array_from_bytes, dtype_name, write_atomically};

/// The value of the `mithril.format` metadata entry of every checkpoint.
pub const FORMAT: &str = "mithril-checkpoint";
/// The version of the layout described in this module's documentation.
pub const FORMAT_VERSION: u32 = 1;

const PARAMS: &str = "params.";
const OPTIMIZER: &str = "optimizer.";
const KEY: &str = "trainer.key";
const USER: &str = "user.";
const CHECKSUM: &str = "mithril.checksum";

/// Where a run is in its data, saved with a checkpoint and handed back on
/// resume: what the trainer cannot know about the caller's loop.
///
/// ```
/// use mithril_mlx::checkpoint::Progress;
/// let progress = Progress { epoch: 2, batch: 40, data_seed: 7, ..Progress::default() }
///     .with("loss_sum", "12.5");
/// assert_eq!(progress.get("loss_sum"), Some("12.5"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// The epoch in progress, counted as the caller counts them.
    pub epoch: u64,
    /// Batches of that epoch already trained.
    pub batch: u64,
    /// The seed the data order derives from (with the epoch).
    pub data_seed: u64,
    /// The caller's own state (its flags, running sums, history), restored
    /// as written. Keys and values are free text.
    pub extra: BTreeMap<String, String>,
}

impl Progress {
    /// Adds an entry to [`Self::extra`].
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Progress {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// An entry of [`Self::extra`].
    pub fn get(&self, key: &str) -> Option<&str> {
        self.extra.get(key).map(String::as_str)
    }
}

/// One array of a checkpoint: its name within its group, and where its
/// bytes lie in the file.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) dtype: StDtype,
    pub(crate) shape: Vec<usize>,
    range: Range<usize>,
}

/// A checkpoint read from disk and checked as a file: well-formed
/// safetensors, a mithril checkpoint of a known version, every entry
/// present and parseable, and the checksum right. Whether it fits a run is
/// [`Trainer::restore`](crate::train::Trainer::restore)'s check.
pub struct Checkpoint {
    path: PathBuf,
    bytes: Vec<u8>,
    model: String,
    optimizer: String,
    steps: u64,
    progress: Progress,
    params: Vec<Entry>,
    optimizer_state: Vec<Entry>,
    key: Entry,
}

impl std::fmt::Debug for Checkpoint {
    // Without the file's bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("path", &self.path)
            .field("model", &self.model)
            .field("optimizer", &self.optimizer)
            .field("steps", &self.steps)
            .field("progress", &self.progress)
            .field("params", &self.params.len())
            .field("optimizer_state", &self.optimizer_state.len())
            .finish_non_exhaustive()
    }
}

impl Checkpoint {
    /// Reads `path` and checks it as a file. Memory is bounded by the
    /// file's size: lengths in the file are checked against it before use.
    pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint> {
        let path = path.as_ref();
        Checkpoint::parse(path, crate::io::read_file(path)?)
    }

    /// Checks `bytes`, the contents of `path`: the safetensors structure,
    /// the format, the checksum, then the entries.
    fn parse(path: &Path, bytes: Vec<u8>) -> Result<Checkpoint> {
        let (header_len, metadata) =
            SafeTensors::read_metadata(&bytes).map_err(|e| Error::Format {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        // Borrowed, not copied: a crafted file may be mostly metadata.
        let meta: BTreeMap<&str, &str> = metadata
            .metadata()
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut tensors: Vec<(String, Entry)> = metadata
            .tensors()
            .into_iter()
            .map(|(name, info)| {
                let (start, end) = info.data_offsets;
                let data = 8 + header_len;
                let entry = Entry {
                    name: String::new(),
                    dtype: info.dtype,
                    shape: info.shape.clone(),
                    range: data + start..data + end,
                };
                (name, entry)
            })
            .collect();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));

        let reader = Reader { path, meta };
        reader.check_format()?;
        reader.check_checksum(&tensors, &bytes)?;
        let progress = reader.progress()?;
        let (params, optimizer_state, key) = reader.group(tensors)?;
        Ok(Checkpoint {
            path: path.to_path_buf(),
            model: reader.text("mithril.model")?.to_string(),
            optimizer: reader.text("mithril.optimizer")?.to_string(),
            steps: reader.number("mithril.steps")?,
            progress,
            params,
            optimizer_state,
            key,
            bytes,
        })
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The name of the model it trains.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The optimizer's type (`mlx_rs::optimizers::adam::Adam`).
    pub fn optimizer(&self) -> &str {
        &self.optimizer
    }

    /// Training steps taken when it was written.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Where the run was in its data, with the caller's own entries.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Parameters and buffers, sorted by path.
    pub(crate) fn params(&self) -> &[Entry] {
        &self.params
    }

    /// The optimizer's state entries, sorted by key.
    pub(crate) fn optimizer_state(&self) -> &[Entry] {
        &self.optimizer_state
    }

    /// The trainer's random key.
    pub(crate) fn key(&self) -> &Entry {
        &self.key
    }

    /// An entry as an MLX array.
    pub(crate) fn array(&self, entry: &Entry) -> Result<Array> {
        array_from_bytes(entry.dtype, &entry.shape, &self.bytes[entry.range.clone()]).ok_or_else(
            || Error::CheckpointFormat {
                path: self.path.clone(),
                reason: format!(
                    "`{}` ({}, shape {:?}) cannot be an MLX array",
                    entry.name,
                    dtype_name(entry.dtype),
                    entry.shape
                ),
            },
        )
    }
}

/// The checks [`Checkpoint::parse`] makes, one per method, over the
/// file's metadata.
struct Reader<'a> {
    path: &'a Path,
    meta: BTreeMap<&'a str, &'a str>,
}

/// The metadata entries a checkpoint has besides the `user.` ones.
const KNOWN: [&str; 9] = [
    "mithril.format",
    "mithril.format_version",
    CHECKSUM,
    "mithril.model",
    "mithril.optimizer",
    "mithril.steps",
    "mithril.epoch",
    "mithril.batch",
    "mithril.data_seed",
];

impl Reader<'_> {
    fn error(&self, reason: String) -> Error {
        Error::CheckpointFormat {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    fn text(&self, name: &str) -> Result<&str> {
        self.meta
            .get(name)
            .copied()
            .ok_or_else(|| self.error(format!("no `{name}` entry")))
    }

    fn number(&self, name: &str) -> Result<u64> {
        let text = self.text(name)?;
        text.parse().map_err(|_| {
            self.error(format!(
                "`{name}` is `{}`, expected a whole number",
                shown(text)
            ))
        })
    }

    /// A mithril checkpoint, of the version this build reads.
    fn check_format(&self) -> Result<()> {
        match self.meta.get("mithril.format").copied() {
            Some(FORMAT) => {}
            Some(other) => {
                let found = shown(other);
                return Err(self.error(format!("format `{found}`, expected `{FORMAT}`")));
            }
            None if self.meta.contains_key("mithril.model") => {
                return Err(
                    self.error("a parameter file (io::save_params), not a checkpoint".into())
                );
            }
            None => {
                return Err(
                    self.error("no `mithril.format` entry: not a mithril checkpoint".into())
                );
            }
        }
        let version = self.text("mithril.format_version")?;
        if version != FORMAT_VERSION.to_string() {
            return Err(self.error(format!(
                "format version {}; this build reads version {FORMAT_VERSION}",
                shown(version)
            )));
        }
        Ok(())
    }

    /// The contents match the checksum written with them. Checked before
    /// the entries: after a flipped bit, any other complaint is beside the
    /// point.
    fn check_checksum(&self, tensors: &[(String, Entry)], bytes: &[u8]) -> Result<()> {
        let text = self.text(CHECKSUM)?;
        // Exactly as written (eight lowercase hex digits), so that no
        // change to the text goes unseen.
        let stored = text
            .strip_prefix("crc32:")
            .filter(|hex| {
                hex.len() == 8 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            })
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .ok_or_else(|| {
                self.error(format!(
                    "`{CHECKSUM}` is `{}`, expected crc32:<8 hex digits>",
                    shown(text)
                ))
            })?;
        let summed: Vec<(&str, StDtype, &[usize], &[u8])> = tensors
            .iter()
            .map(|(name, e)| {
                (
                    name.as_str(),
                    e.dtype,
                    e.shape.as_slice(),
                    &bytes[e.range.clone()],
                )
            })
            .collect();
        let computed = checksum(self.meta.iter().map(|(k, v)| (*k, *v)), &summed);
        if computed != stored {
            return Err(Error::Checksum {
                path: self.path.to_path_buf(),
                stored,
                computed,
            });
        }
        Ok(())
    }

    /// The progress entries and the caller's own (`user.`); any other
    /// entry is an error.
    fn progress(&self) -> Result<Progress> {
        let mut progress = Progress {
            epoch: self.number("mithril.epoch")?,
            batch: self.number("mithril.batch")?,
            data_seed: self.number("mithril.data_seed")?,
            extra: BTreeMap::new(),
        };
        for (k, v) in &self.meta {
            if let Some(user) = k.strip_prefix(USER) {
                progress.extra.insert(user.to_string(), v.to_string());
            } else if !KNOWN.contains(k) {
                return Err(self.error(format!("unknown metadata entry `{}`", shown(k))));
            }
        }
        Ok(progress)
    }

    /// The tensors as parameters, optimizer state and key, each within
    /// what an MLX array can hold.
    fn group(&self, tensors: Vec<(String, Entry)>) -> Result<(Vec<Entry>, Vec<Entry>, Entry)> {
        let (mut params, mut optimizer_state, mut key) = (Vec::new(), Vec::new(), None);
        for (name, mut entry) in tensors {
            if entry.shape.iter().any(|&d| i32::try_from(d).is_err()) {
                return Err(self.error(format!(
                    "`{}` has shape {:?}, beyond what MLX arrays hold",
                    shown(&name),
                    entry.shape
                )));
            }
            if let Some(rest) = name.strip_prefix(PARAMS) {
                entry.name = rest.to_string();
                params.push(entry);
            } else if let Some(rest) = name.strip_prefix(OPTIMIZER) {
                entry.name = rest.to_string();
                optimizer_state.push(entry);
            } else if name == KEY {
                entry.name = name;
                key = Some(entry);
            } else {
                return Err(self.error(format!(
                    "unexpected tensor `{}` (expected `{PARAMS}*`, `{OPTIMIZER}*` or `{KEY}`)",
                    shown(&name)
                )));
            }
        }
        let key = key.ok_or_else(|| self.error(format!("no `{KEY}` tensor")))?;
        Ok((params, optimizer_state, key))
    }
}

/// What a trainer saves: [`write`]'s input.
pub(crate) struct Contents<'a> {
    pub(crate) model: &'a str,
    pub(crate) optimizer: &'a str,
    pub(crate) steps: u64,
    pub(crate) progress: &'a Progress,
    pub(crate) params: Vec<(String, Bytes)>,
    pub(crate) optimizer_state: Vec<(String, Bytes)>,
    pub(crate) key: Bytes,
}

/// Writes a checkpoint atomically ([`write_atomically`]): a crash at any
/// point leaves either the previous file or the new one. Temporary files
/// that killed writers left beside `path` are removed first.
pub(crate) fn write(path: &Path, contents: Contents<'_>) -> Result<()> {
    let mut meta: BTreeMap<String, String> = BTreeMap::from([
        ("mithril.format".into(), FORMAT.into()),
        ("mithril.format_version".into(), FORMAT_VERSION.to_string()),
        ("mithril.model".into(), contents.model.into()),
        ("mithril.optimizer".into(), contents.optimizer.into()),
        ("mithril.steps".into(), contents.steps.to_string()),
        ("mithril.epoch".into(), contents.progress.epoch.to_string()),
        ("mithril.batch".into(), contents.progress.batch.to_string()),
        (
            "mithril.data_seed".into(),
            contents.progress.data_seed.to_string(),
        ),
    ]);
    for (k, v) in &contents.progress.extra {
        meta.insert(format!("{USER}{k}"), v.clone());
    }
    let mut tensors: Vec<(String, &Bytes)> = Vec::new();
    tensors.extend(
        contents
            .params
            .iter()
            .map(|(k, b)| (format!("{PARAMS}{k}"), b)),
    );
    tensors.extend(
        contents
            .optimizer_state
            .iter()
            .map(|(k, b)| (format!("{OPTIMIZER}{k}"), b)),
    );
    tensors.push((KEY.to_string(), &contents.key));
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = tensors.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::CheckpointFormat {
            path: path.to_path_buf(),
            reason: format!("two tensors named `{}`", w[0].0),
        });
    }
    let summed: Vec<(&str, StDtype, &[usize], &[u8])> = tensors
        .iter()
        .map(|(k, b)| (k.as_str(), b.dtype, b.shape.as_slice(), b.data.as_slice()))
        .collect();
    let crc = checksum(meta.iter().map(|(k, v)| (k.as_str(), v.as_str())), &summed);
    meta.insert(CHECKSUM.into(), format!("crc32:{crc:08x}"));
    let bytes = safetensors::serialize(
        tensors.iter().map(|(k, b)| (k.as_str(), *b)),
        Some(meta.into_iter().collect::<HashMap<_, _>>()),
    )
    .map_err(|e| Error::Format {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    remove_stale_temporaries(path);
    write_atomically(path, &bytes)
}

/// Removes `.NAME.<pid>-<n>.tmp` files beside `path` that killed writers
/// left (each as large as a checkpoint). Best effort; the files of live
/// processes (this one, or another run writing the same checkpoint) are
/// left alone.
fn remove_stale_temporaries(path: &Path) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let (Some(name), Ok(listing)) = (path.file_name(), std::fs::read_dir(dir)) else {
        return;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    for item in listing.flatten() {
        let file = item.file_name().to_string_lossy().into_owned();
        let writer = file
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|rest| rest.split_once('-'))
            .filter(|(pid, n)| digits(pid) && digits(n));
        if writer.is_some_and(|(pid, _)| pid.parse().is_ok_and(|pid| !alive(pid))) {
            let _ = std::fs::remove_file(item.path());
        }
    }
}

/// Whether process `pid` exists (signal 0 on Unix); elsewhere assumed.
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 sends nothing; it only asks whether the process exists.
        let sent = unsafe { libc::kill(pid, 0) };
        sent == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// CRC-32 over the metadata (but the checksum entry) and every tensor's
/// name, dtype, shape and bytes, in name order, each length-prefixed so no
/// two different contents feed it the same stream.
fn checksum<'a>(
    meta: impl Iterator<Item = (&'a str, &'a str)>,
    tensors: &[(&str, StDtype, &[usize], &[u8])],
) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    let mut put = |bytes: &[u8]| {
        crc.update(&(bytes.len() as u64).to_le_bytes());
        crc.update(bytes);
    };
    for (k, v) in meta.filter(|(k, _)| *k != CHECKSUM) {
        put(k.as_bytes());
        put(v.as_bytes());
    }
    for (name, dtype, shape, data) in tensors {
        put(name.as_bytes());
        put(dtype_name(*dtype).as_bytes());
        let dims: Vec<u8> = shape
            .iter()
            .flat_map(|&d| (d as u64).to_le_bytes())
            .collect();
        put(&dims);
        put(data);
    }
    crc.finalize()
}

/// Text from a file as an error shows it: at most 64 characters, so a
/// crafted file cannot make its error as large as itself.
fn shown(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

//! The run's checkpoints: where they go, what they record beside the
//! trainer's state (the flags, the metrics), opening one to resume, and
//! what a divergence says about the last good one.

use std::path::{Path, PathBuf};

use mithril::checkpoint::{Checkpoint, Progress};
use mithril::optimizers::Adam;
use mithril::train::Trainer;
use serde::Serialize;

use crate::ConvNet;
use crate::failure::{Context, Failure};
use crate::flags::RunFlags;
use crate::metrics::Metrics;

/// The run's checkpoint and final parameters, in `--out`.
pub const CHECKPOINT: &str = "mnist-checkpoint.safetensors";
pub const PARAMS: &str = "mnist-params.safetensors";
/// Keys of the application's own entries in a checkpoint's progress.
const FLAGS_ENTRY: &str = "mnist.flags";
const METRICS_ENTRY: &str = "mnist.metrics";

/// The checkpoint of the run whose `--out` was `dir`, with the flags it
/// recorded.
pub fn open_run(dir: &Path) -> Result<(Checkpoint, RunFlags), Failure> {
    let path = dir.join(CHECKPOINT);
    if !path.exists() {
        return Err(Failure::Failed(format!(
            "--resume {}: no checkpoint there ({} does not exist); a run writes one with --checkpoint-every N --out {}",
            dir.display(),
            path.display(),
            dir.display()
        )));
    }
    let checkpoint =
        Checkpoint::load(&path).context(|| format!("reading the checkpoint {}", path.display()))?;
    let flags = entry(&checkpoint, FLAGS_ENTRY)
        .context(|| format!("{}: not a checkpoint of this example", path.display()))?;
    Ok((checkpoint, flags))
}

/// The metrics a checkpoint recorded.
pub fn metrics(checkpoint: &Checkpoint) -> Result<Metrics, Failure> {
    entry(checkpoint, METRICS_ENTRY)
        .context(|| format!("{}: the run's metrics", checkpoint.path().display()))
}

/// Entry `key` of a checkpoint's progress, read from JSON.
fn entry<T: serde::de::DeserializeOwned>(checkpoint: &Checkpoint, key: &str) -> Result<T, String> {
    let json = checkpoint
        .progress()
        .get(key)
        .ok_or_else(|| format!("no `{key}` entry"))?;
    serde_json::from_str(json).map_err(|e| e.to_string())
}

/// Writes the whole run to `path` (atomically): the trainer's state, the
/// place in the data (`epoch`, `batch`), the flags and the metrics. Returns
/// the step it was written after.
pub fn save(
    path: &Path,
    trainer: &mut Trainer<ConvNet, Adam>,
    params: &crate::ConvNetParams,
    flags: &RunFlags,
    metrics: &Metrics,
    (epoch, batch): (usize, usize),
) -> Result<u64, Failure> {
    let progress = Progress {
        epoch: epoch as u64,
        batch: batch as u64,
        data_seed: flags.seed,
        ..Progress::default()
    }
    .with(FLAGS_ENTRY, to_json(flags)?)
    .with(METRICS_ENTRY, to_json(metrics)?);
    trainer
        .save_checkpoint(path, params, &progress)
        .context(|| format!("writing the checkpoint {}", path.display()))?;
    Ok(trainer.steps())
}

/// `value` as JSON, for a checkpoint's progress entries.
fn to_json(value: &impl Serialize) -> Result<String, Failure> {
    serde_json::to_string(value).context(|| "recording the run's state".into())
}

/// The failure for a step that failed: a divergence names the last good
/// checkpoint, which stays as it was.
pub fn diverged(
    error: mithril::Error,
    epoch: usize,
    last_checkpoint: Option<u64>,
    path: &Path,
) -> Failure {
    match (&error, last_checkpoint) {
        (mithril::Error::Diverged { .. }, Some(steps)) => Failure::Failed(format!(
            "{error}.\nThe last good checkpoint, after step {steps}, is {}: resume it with \
             --resume {} (with a lower --lr to avoid the same fate)",
            path.display(),
            path.parent().unwrap_or(Path::new(".")).display()
        )),
        (mithril::Error::Diverged { .. }, None) => {
            Failure::Failed(format!("{error}; try a lower --lr or --dtype f32"))
        }
        _ => Failure::Failed(format!("training in epoch {epoch}: {error}")),
    }
}

/// Whether two paths name the same directory (as written, or on disk).
pub fn same_dir(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (a.canonicalize(), b.canonicalize()),
            (Ok(x), Ok(y)) if x == y
        )
}

/// The output directory, the flags and (when resuming) the checkpoint of
/// the run that `args` start or continue on `ranks` processes.
pub fn start_or_resume(
    args: &crate::flags::Args,
    matches: &clap::ArgMatches,
    ranks: usize,
) -> Result<(RunFlags, PathBuf, Option<Checkpoint>), Failure> {
    let Some(dir) = &args.resume else {
        return Ok((RunFlags::new(args, ranks), args.out.clone(), None));
    };
    if matches.value_source("out") == Some(clap::parser::ValueSource::CommandLine)
        && !same_dir(&args.out, dir)
    {
        return Err(Failure::Failed(format!(
            "--resume {} continues in that directory; --out {} differs",
            dir.display(),
            args.out.display()
        )));
    }
    let (checkpoint, recorded) = open_run(dir)?;
    let flags = recorded.resumed(args, matches, ranks)?;
    Ok((flags, dir.clone(), Some(checkpoint)))
}

//! Trains the guide's convolutional network on MNIST and reports test
//! accuracy after every epoch.
//!
//! ```sh
//! ./dev.sh example              # 5 epochs on the 10,000 training digits
//! ./dev.sh example --quick      # CI's check: 2 epochs on 2,000 digits, >= 85% on 1,000 test digits
//! ./dev.sh example --checkpoint-every 100 --out runs/a   # a checkpoint of the whole run every 100 steps
//! ./dev.sh example --resume runs/a                       # after a crash: continue it, to the same result
//! ./dev.sh example --help
//! ```
//!
//! The model is NHWC: `[B, 28, 28, 1]` images in, ten logits out. Training
//! uses Adam on softmax cross-entropy, one compiled MLX step per batch
//! (`mithril::train::Trainer`); evaluation uses the compiled model
//! (`mithril::compile`). The data are the repository's copy of MNIST
//! (`data/mnist/`): 10,000 training digits and the 10,000 official test
//! digits. Metrics go to `OUT/mnist-metrics.csv`, a chart to
//! `OUT/mnist-training.png` and the final parameters to
//! `OUT/mnist-params.safetensors`.
//!
//! With `--checkpoint-every N`, `OUT/mnist-checkpoint.safetensors` holds the
//! whole run (parameters, Adam's moments, the random key, the epoch and
//! batch, the flags, the metrics so far), rewritten atomically every N steps
//! and at the end. `--resume OUT` continues such a run from there with the
//! flags it was started with (giving one again is allowed if its value is
//! the same; `--lr` may be changed deliberately, say after a divergence) and
//! ends with the same parameters and losses, bit for bit, as a run never
//! interrupted. Steps are checked for NaN and infinity
//! (`Trainer::stop_on_non_finite`): a diverging run stops, naming the step
//! and what went non-finite, with its last good checkpoint untouched.
//!
//! Data-parallel on several processes (docs/distributed.md):
//!
//! ```sh
//! cargo mithril launch -n 2 -- cargo run --release --example mnist -- --epochs 1
//! ```
//!
//! Each rank trains on its half of every batch (`--batch-size` is the
//! batch of all ranks together, so the run does what one process would);
//! gradients are averaged inside the compiled step; rank 0 alone prints and
//! writes files; the last line checks that every rank ends with the same
//! parameters.

mod common;

use std::fmt::{self, Display};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use indicatif::{ProgressBar, ProgressStyle};
use mithril::checkpoint::{Checkpoint, Progress};
use mithril::data::mnist::{Mnist, repo_dir};
use mithril::distributed::{Backend, Group, shard, verify_identical};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer, accuracy};
use serde::{Deserialize, Serialize};

use common::SplitMix64;
use common::chart::{TrainingCurves, render_png};

mithril::model! {
    /// The guide's image model, NHWC.
    pub ConvNet {
        input image: [B, 28, 28, 1];
        image -> conv1: Conv2d(filters = 16, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> conv2: Conv2d(filters = 32, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> Flatten -> fc1: Linear(64) -> Relu -> fc2: Linear(10) => logits;
        output logits;
    }
}

/// Digits and the accuracy `--quick` trains on, evaluates on and asserts.
const QUICK_TRAIN: usize = 2_000;
const QUICK_TEST: usize = 1_000;
const QUICK_MIN_ACCURACY: f64 = 0.85;
/// Test digits per evaluation batch: on the 2-core CPU, batches of 64-250
/// evaluate 10,000 digits about twice as fast as batches of 1,000, whose
/// activations (the 1,000 x 196 x 144 im2col of conv2 alone is 113 MB) no
/// longer fit in cache.
const EVAL_BATCH: usize = 250;
/// The run's checkpoint and final parameters, in `--out`.
const CHECKPOINT: &str = "mnist-checkpoint.safetensors";
const PARAMS: &str = "mnist-params.safetensors";
/// Keys of the example's own entries in a checkpoint's progress.
const FLAGS_ENTRY: &str = "mnist.flags";
const METRICS_ENTRY: &str = "mnist.metrics";

/// Train the guide's CNN on MNIST with mithril on MLX.
#[derive(Parser, Debug)]
#[command(name = "mnist", version)]
struct Args {
    /// Passes over the training digits [default: 5, or 2 with --quick]
    #[arg(long, value_parser = positive)]
    epochs: Option<usize>,
    /// Digits per training step (of all ranks together, when launched on
    /// several)
    #[arg(long, default_value_t = 64, value_parser = positive)]
    batch_size: usize,
    /// Adam's learning rate
    #[arg(long, default_value_t = 1e-3, value_parser = learning_rate)]
    lr: f32,
    /// Seed for the parameters' initialisation and the shuffling
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Run on the CPU
    #[arg(long, conflicts_with = "gpu")]
    cpu: bool,
    /// Run on the GPU (an error where this MLX build has none); without
    /// --cpu or --gpu, the GPU where there is one, else the CPU
    #[arg(long)]
    gpu: bool,
    /// Parameter and activation type: f32, f16 or bf16
    #[arg(long, default_value = "f32", value_parser = DType::from_str)]
    dtype: DType,
    /// Where to write mnist-metrics.csv, mnist-training.png,
    /// mnist-params.safetensors and the checkpoint
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Quick check (CI): 1 epoch on the first 2,000 training digits, then
    /// require >= 85% accuracy on the first 1,000 test digits
    #[arg(long)]
    quick: bool,
    /// Directory with the MNIST files [default: the repository's data/mnist]
    #[arg(long)]
    data: Option<PathBuf>,
    /// Write a checkpoint of the whole run to OUT/mnist-checkpoint.safetensors
    /// every N steps and at the end
    #[arg(long, value_name = "N", value_parser = positive)]
    checkpoint_every: Option<usize>,
    /// Continue the run whose --out was DIR from its last checkpoint, with
    /// the flags it was started with, to the same final result
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
}

/// The flags that decide a run's result: recorded in its checkpoints, and
/// what a resumed run goes on with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RunFlags {
    epochs: usize,
    batch_size: usize,
    lr: f32,
    seed: u64,
    cpu: bool,
    gpu: bool,
    dtype: String,
    quick: bool,
    data: Option<PathBuf>,
    checkpoint_every: Option<usize>,
    /// Processes the run trains on (each step's batch is split among them).
    #[serde(default = "one")]
    ranks: usize,
}

fn one() -> usize {
    1
}

impl RunFlags {
    fn new(args: &Args, ranks: usize) -> RunFlags {
        RunFlags {
            // Two quick epochs: one epoch on 2,000 digits lands at 84-90%
            // depending on the seed, too close to the threshold to be a
            // stable check.
            epochs: args.epochs.unwrap_or(if args.quick { 2 } else { 5 }),
            batch_size: args.batch_size,
            lr: args.lr,
            seed: args.seed,
            cpu: args.cpu,
            gpu: args.gpu,
            dtype: args.dtype.to_string(),
            quick: args.quick,
            data: args.data.clone(),
            checkpoint_every: args.checkpoint_every,
            ranks,
        }
    }

    /// The flags recorded in a run being resumed, checked against those
    /// given with `--resume`: each must have the recorded value, except
    /// `--lr` (a deliberate change, announced) and `--checkpoint-every`.
    fn resumed(
        mut self,
        args: &Args,
        matches: &ArgMatches,
        ranks: usize,
    ) -> Result<RunFlags, Failure> {
        let given = RunFlags::new(args, ranks);
        let on_command_line = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
        let mut conflicts = Vec::new();
        let mut check = |id: &str, recorded: String, now: String| {
            if on_command_line(id) && recorded != now {
                conflicts.push(format!(
                    "--{} {now} (the run was started with {recorded})",
                    id.replace('_', "-")
                ));
            }
        };
        check("epochs", self.epochs.to_string(), given.epochs.to_string());
        check(
            "batch_size",
            self.batch_size.to_string(),
            given.batch_size.to_string(),
        );
        check("seed", self.seed.to_string(), given.seed.to_string());
        check("cpu", self.cpu.to_string(), given.cpu.to_string());
        check("gpu", self.gpu.to_string(), given.gpu.to_string());
        check("dtype", self.dtype.clone(), given.dtype.clone());
        check("quick", self.quick.to_string(), given.quick.to_string());
        check(
            "data",
            format!("{:?}", self.data),
            format!("{:?}", given.data),
        );
        if self.ranks != ranks {
            conflicts.push(format!(
                "{ranks} rank(s) (the run was started on {})",
                self.ranks
            ));
        }
        if !conflicts.is_empty() {
            return Err(Failure::Failed(format!(
                "--resume continues a run with the flags it was started with; these differ: {}",
                conflicts.join(", ")
            )));
        }
        if on_command_line("lr") && given.lr != self.lr {
            println!(
                "note: --lr {} instead of the run's {}: from here on the run differs from an uninterrupted one",
                given.lr, self.lr
            );
            self.lr = given.lr;
        }
        if on_command_line("checkpoint_every") {
            self.checkpoint_every = given.checkpoint_every;
        }
        Ok(self)
    }
}

/// The training loop's own state, saved with every checkpoint: the epoch
/// in progress (its running loss and time), the finished epochs, and each
/// batch's loss for the chart.
#[derive(Default, Serialize, Deserialize)]
struct Metrics {
    loss_sum: f64,
    seen: usize,
    train_seconds: f64,
    history: Vec<EpochStats>,
    batch_losses: Vec<(f64, f64)>,
}

fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn learning_rate(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(lr) if lr.is_finite() && lr > 0.0 => Ok(lr),
        Ok(_) => Err("must be a positive number".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Why the run stopped, and its exit code.
#[derive(Debug)]
enum Failure {
    /// The configuration cannot run here (e.g. --gpu on a CPU build): exit 2.
    Unsupported(String),
    /// Anything else (missing data, MLX errors, unwritable output, a failed
    /// --quick check): exit 1.
    Failed(String),
}

impl Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Unsupported(m) | Failure::Failed(m) => f.write_str(m),
        }
    }
}

/// Adds what was being done to an error's message.
trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Failure>;
}

impl<T, E: Display> Context<T> for Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Failure> {
        self.map_err(|e| Failure::Failed(format!("{}: {e}", what())))
    }
}

fn main() -> ExitCode {
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match run(&args, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(match failure {
                Failure::Unsupported(_) => 2,
                Failure::Failed(_) => 1,
            })
        }
    }
}

/// One finished epoch.
#[derive(Serialize, Deserialize)]
struct EpochStats {
    epoch: usize,
    train_loss: f64,
    test_accuracy: f64,
    train_seconds: f64,
    eval_seconds: f64,
    samples: usize,
}

impl EpochStats {
    fn samples_per_second(&self) -> f64 {
        self.samples as f64 / self.train_seconds.max(1e-9)
    }
}

/// The order of epoch `epoch` (from 1): the seed's generator shuffling the
/// previous epoch's order, so a pure function of (seed, epoch) that a
/// resumed run recomputes.
fn epoch_order(seed: u64, n: usize, epoch: usize) -> Vec<usize> {
    let mut rng = SplitMix64::new(seed);
    let mut order: Vec<usize> = (0..n).collect();
    for _ in 0..epoch {
        rng.shuffle(&mut order);
    }
    order
}

/// `x` with `digits` significant digits (at least), in plain notation.
fn significant(x: f64, digits: i32) -> String {
    let magnitude = if x == 0.0 || !x.is_finite() {
        0
    } else {
        x.abs().log10().floor() as i32
    };
    format!("{x:.*}", (digits - 1 - magnitude).max(0) as usize)
}

/// The checkpoint of the run whose `--out` was `dir`, with the flags it
/// recorded.
fn open_run(dir: &Path) -> Result<(Checkpoint, RunFlags), Failure> {
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
    let flags = checkpoint
        .progress()
        .get(FLAGS_ENTRY)
        .ok_or_else(|| format!("no `{FLAGS_ENTRY}` entry"))
        .and_then(|json| serde_json::from_str(json).map_err(|e| e.to_string()))
        .context(|| format!("{}: not a checkpoint of this example", path.display()))?;
    Ok((checkpoint, flags))
}

/// A batch of digits as model inputs (pixels in [0, 1], in `dtype`) and labels.
fn batch(data: &Mnist, indices: &[usize], dtype: DType) -> Result<(ConvNetInputs, Array), Failure> {
    let n = indices.len() as i32;
    let mut image = Array::from_slice(&data.batch_pixels(indices), &[n, 28, 28, 1]);
    if dtype != DType::F32 {
        image = image
            .as_dtype(dtype.mlx())
            .context(|| format!("converting images to {dtype}"))?;
    }
    let labels = Array::from_slice(&data.batch_labels(indices), &[n]);
    Ok((ConvNetInputs { image }, labels))
}

/// Fraction of `batches` the model classifies correctly.
fn evaluate(
    model: &mut mithril::CompiledModel<ConvNet>,
    params: &ConvNetParams,
    batches: &[(ConvNetInputs, Array)],
) -> Result<f64, Failure> {
    let (mut correct, mut total) = (0.0f64, 0usize);
    for (inputs, labels) in batches {
        let logits = model
            .evaluate(params, inputs)
            .context(|| "evaluating the test digits".into())?
            .logits;
        let n = labels.size();
        let acc = accuracy(&logits, labels).context(|| "computing accuracy".into())?;
        correct += (f64::from(acc) * n as f64).round();
        total += n;
    }
    Ok(correct / total.max(1) as f64)
}

fn run(args: &Args, matches: &ArgMatches) -> Result<(), Failure> {
    // The processes of a launched run (a group of one otherwise).
    let group = Group::init(Backend::Any).context(|| "joining the distributed run".into())?;
    let main = group.is_main();
    let (flags, out, resumed) = match &args.resume {
        None => (RunFlags::new(args, group.size()), args.out.clone(), None),
        Some(dir) => {
            if matches.value_source("out") == Some(ValueSource::CommandLine)
                && !same_dir(&args.out, dir)
            {
                return Err(Failure::Failed(format!(
                    "--resume {} continues in that directory; --out {} differs",
                    dir.display(),
                    args.out.display()
                )));
            }
            let (checkpoint, recorded) = open_run(dir)?;
            (
                recorded.resumed(args, matches, group.size())?,
                dir.clone(),
                Some(checkpoint),
            )
        }
    };
    let dtype = DType::from_str(&flags.dtype).context(|| "the run's dtype".into())?;
    let device = match (flags.cpu, flags.gpu) {
        (true, _) => Device::Cpu,
        (_, true) => Device::Gpu,
        _ => Device::Auto,
    };
    let backend = MlxBackend::builder()
        .device(device)
        .dtype(dtype)
        .seed(flags.seed)
        .build()
        .map_err(|e| match device {
            Device::Gpu => Failure::Unsupported(format!("--gpu: {e}; run with --cpu instead")),
            _ => Failure::Unsupported(e.to_string()),
        })?;

    let data_dir = flags.data.clone().unwrap_or_else(repo_dir);
    let train = Mnist::load_train_10k(&data_dir).context(|| {
        format!(
            "reading the MNIST training digits in {}",
            data_dir.display()
        )
    })?;
    let test = Mnist::load_test(&data_dir)
        .context(|| format!("reading the MNIST test digits in {}", data_dir.display()))?;
    if (train.rows, train.cols, test.rows, test.cols) != (28, 28, 28, 28) {
        return Err(Failure::Failed(format!(
            "{}: MNIST images must be 28x28",
            data_dir.display()
        )));
    }
    let (n_train, n_test) = if flags.quick {
        (QUICK_TRAIN.min(train.len()), QUICK_TEST.min(test.len()))
    } else {
        (train.len(), test.len())
    };
    let epochs = flags.epochs;
    let batch_size = flags.batch_size.min(n_train);
    if !batch_size.is_multiple_of(group.size()) {
        return Err(Failure::Failed(format!(
            "--batch-size {batch_size} cannot be split evenly among {} ranks",
            group.size()
        )));
    }
    let device_name = if backend.device() == Device::Gpu {
        "GPU"
    } else {
        "CPU"
    };
    // Rank 0 speaks for the run; the others only report failures.
    let say = |line: String| {
        if main {
            println!("{line}");
        }
    };
    say(format!(
        "mithril MNIST: ConvNet ({} parameters), {} on the {device_name} with {}, Adam lr {}, batch {batch_size}, seed {}",
        thousands(ConvNet::PARAMETER_COUNT),
        dtype,
        mithril::runtime_info(),
        flags.lr,
        flags.seed
    ));
    if group.size() > 1 {
        say(format!(
            "data-parallel on {} ranks ({} backend): {} digits of each batch per rank",
            group.size(),
            group.backend().map_or("no", |b| b.name()),
            batch_size / group.size()
        ));
    }
    say(format!(
        "training on {} digits for {epochs} epoch{}, testing on {} official test digits{}",
        thousands(n_train),
        if epochs == 1 { "" } else { "s" },
        thousands(n_test),
        if flags.quick { " (--quick)" } else { "" }
    ));

    if dtype == DType::F16 && main {
        eprintln!(
            "warning: f16 training with Adam diverges: squared gradients (~1e-8) underflow to zero in half \
             precision, so Adam's first updates are huge (Python MLX gives NaN); bf16 has f32's range"
        );
    }

    std::fs::create_dir_all(&out)
        .context(|| format!("creating the output directory {}", out.display()))?;
    let csv_path = out.join("mnist-metrics.csv");
    let chart_path = out.join("mnist-training.png");
    let checkpoint_path = out.join(CHECKPOINT);

    let mut params = ConvNet::init(&backend).context(|| "initialising the parameters".into())?;
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<ConvNet, _>::new(&backend, &objective, Adam::new(flags.lr))
        .context(|| "setting up training".into())?;
    trainer.stop_on_non_finite(true);
    trainer.data_parallel(&group);
    let mut model = mithril::compile::<ConvNet>(&backend);

    // Where training starts: the beginning, or where the checkpoint left it.
    let (mut first_epoch, mut skip, mut metrics) = (1, 0, Metrics::default());
    if let Some(checkpoint) = &resumed {
        let progress = trainer
            .restore(checkpoint, &mut params)
            .context(|| format!("resuming from {}", checkpoint.path().display()))?;
        metrics = progress
            .get(METRICS_ENTRY)
            .ok_or_else(|| format!("no `{METRICS_ENTRY}` entry"))
            .and_then(|json| serde_json::from_str(json).map_err(|e| e.to_string()))
            .context(|| format!("{}: the run's metrics", checkpoint.path().display()))?;
        (first_epoch, skip) = (progress.epoch as usize, progress.batch as usize);
        say(format!(
            "resuming {} at step {} (epoch {first_epoch}, {} digits done)",
            checkpoint.path().display(),
            trainer.steps(),
            thousands(metrics.seen)
        ));
    }
    let mut last_checkpoint = resumed.as_ref().map(|c| c.steps());
    let save = |trainer: &mut Trainer<ConvNet, Adam>,
                params: &ConvNetParams,
                metrics: &Metrics,
                epoch: usize,
                batch: usize|
     -> Result<u64, Failure> {
        let progress = Progress {
            epoch: epoch as u64,
            batch: batch as u64,
            data_seed: flags.seed,
            ..Progress::default()
        }
        .with(FLAGS_ENTRY, to_json(&flags)?)
        .with(METRICS_ENTRY, to_json(metrics)?);
        trainer
            .save_checkpoint(&checkpoint_path, params, &progress)
            .context(|| format!("writing the checkpoint {}", checkpoint_path.display()))?;
        Ok(trainer.steps())
    };

    let test_indices: Vec<usize> = (0..n_test).collect();
    let test_batches = test_indices
        .chunks(EVAL_BATCH)
        .map(|idx| batch(&test, idx, dtype))
        .collect::<Result<Vec<_>, _>>()?;

    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos:>6}/{len} {msg}")
        .context(|| "progress bar template".into())?
        .progress_chars("=> ");

    for epoch in first_epoch..=epochs {
        let order = epoch_order(flags.seed, n_train, epoch);
        let bar = match main {
            true => ProgressBar::new(n_train as u64),
            false => ProgressBar::hidden(),
        }
        .with_style(style.clone())
        .with_prefix(format!("epoch {epoch}/{epochs}"));
        bar.set_position(metrics.seen as u64);
        let start = Instant::now();
        // This rank's part of each batch (all of it for a single process).
        let batches = shard(&order, batch_size, group.rank(), group.size());
        let skip = std::mem::take(&mut skip);
        let seen_before = metrics.seen;
        for (b, indices) in batches.iter().enumerate().skip(skip) {
            let (inputs, labels) = batch(&train, indices, dtype)?;
            let step = trainer
                .step(&mut params, &inputs, &labels)
                .map_err(|e| diverged(e, epoch, last_checkpoint, &checkpoint_path))?;
            // The loss averaged over every rank, for the whole batch.
            let loss = f64::from(
                step.loss
                    .try_item_cast::<f32>()
                    .context(|| "reading the loss".into())?,
            );
            let digits = indices.len() * group.size();
            metrics.loss_sum += loss * digits as f64;
            metrics.seen += digits;
            let seen = metrics.seen;
            metrics
                .batch_losses
                .push(((epoch - 1) as f64 + seen as f64 / n_train as f64, loss));
            bar.set_position(seen as u64);
            let rate = (seen - seen_before) as f64 / start.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "loss {:.4}  {rate:.0} samples/s",
                metrics.loss_sum / seen as f64
            ));
            if let Some(every) = flags.checkpoint_every
                && trainer.steps().is_multiple_of(every as u64)
            {
                let before = metrics.train_seconds;
                metrics.train_seconds += start.elapsed().as_secs_f64();
                let saved = save(&mut trainer, &params, &metrics, epoch, b + 1);
                metrics.train_seconds = before;
                last_checkpoint = Some(saved?);
            }
        }
        let train_seconds = metrics.train_seconds + start.elapsed().as_secs_f64();
        bar.finish_and_clear();

        let eval_start = Instant::now();
        // Every rank holds the same parameters: rank 0 evaluates for all.
        let test_accuracy = match main {
            true => evaluate(&mut model, &params, &test_batches)?,
            false => 0.0,
        };
        let stats = EpochStats {
            epoch,
            train_loss: metrics.loss_sum / metrics.seen.max(1) as f64,
            test_accuracy,
            train_seconds,
            eval_seconds: eval_start.elapsed().as_secs_f64(),
            samples: metrics.seen,
        };
        say(format!(
            "epoch {epoch}/{epochs}: train loss {}, test accuracy {:.2}%, {:.1} s ({:.0} samples/s), eval {:.2} s",
            significant(stats.train_loss, 8),
            100.0 * stats.test_accuracy,
            stats.train_seconds,
            stats.samples_per_second(),
            stats.eval_seconds
        ));
        metrics.history.push(stats);
        (metrics.loss_sum, metrics.seen, metrics.train_seconds) = (0.0, 0, 0.0);
        if !main {
            continue;
        }

        // Rewritten after every epoch, so an interrupted run keeps its curves.
        write_csv(&csv_path, &metrics.history)?;
        let curves = TrainingCurves {
            title: &format!(
                "mithril · MNIST ConvNet · {} training digits · Adam {} · batch {batch_size} · {}",
                thousands(n_train),
                flags.lr,
                dtype
            ),
            epochs,
            batch_losses: &metrics.batch_losses,
            epoch_losses: &metrics
                .history
                .iter()
                .map(|s| s.train_loss)
                .collect::<Vec<_>>(),
            test_accuracies: &metrics
                .history
                .iter()
                .map(|s| s.test_accuracy)
                .collect::<Vec<_>>(),
        };
        let png = render_png(&curves, (1200, 520)).context(|| "drawing the chart".into())?;
        common::write_atomic(&chart_path, &png)
            .context(|| format!("writing {}", chart_path.display()))?;
    }

    // The finished run: a last checkpoint (resuming it only reports), and
    // the parameters on their own, for comparison and for inference.
    if flags.checkpoint_every.is_some() {
        save(&mut trainer, &params, &metrics, epochs + 1, 0)?;
    }
    // Every rank ends with the same parameters: checked, bit for bit.
    let checksum = verify_identical(&group, &params).context(|| "comparing the ranks".into())?;
    if !main {
        return Ok(());
    }
    let params_path = out.join(PARAMS);
    mithril::io::save_params::<ConvNet>(&params, &params_path)
        .context(|| format!("writing {}", params_path.display()))?;
    let history = metrics.history;

    print_table(&history);
    let best = history
        .iter()
        .max_by(|a, b| a.test_accuracy.total_cmp(&b.test_accuracy))
        .ok_or_else(|| Failure::Failed("no epoch ran".into()))?;
    println!(
        "best test accuracy: {:.2}% (epoch {})",
        100.0 * best.test_accuracy,
        best.epoch
    );
    println!("metrics: {}", csv_path.display());
    println!("chart: {}", chart_path.display());
    println!("parameters: {}", params_path.display());
    if flags.checkpoint_every.is_some() {
        println!("checkpoint: {}", checkpoint_path.display());
    }
    match group.size() {
        1 => println!("parameters checksum {checksum:016x}"),
        n => println!("parameters identical on all {n} ranks (checksum {checksum:016x})"),
    }

    if flags.quick {
        let last = history.last().map_or(0.0, |s| s.test_accuracy);
        let verdict = if last >= QUICK_MIN_ACCURACY {
            "ok"
        } else {
            "FAILED"
        };
        println!(
            "quick check: test accuracy {:.2}% on {} test digits after {epochs} epoch{} on {} training digits >= {:.0}% required: {verdict}",
            100.0 * last,
            thousands(n_test),
            if epochs == 1 { "" } else { "s" },
            thousands(n_train),
            100.0 * QUICK_MIN_ACCURACY
        );
        if last < QUICK_MIN_ACCURACY {
            return Err(Failure::Failed(format!(
                "quick check failed: test accuracy {:.2}% is below {:.0}%",
                100.0 * last,
                100.0 * QUICK_MIN_ACCURACY
            )));
        }
    }
    Ok(())
}

/// The failure for a step that failed: a divergence names the last good
/// checkpoint, which stays as it was.
fn diverged(
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

/// `value` as JSON, for a checkpoint's progress entries.
fn to_json(value: &impl Serialize) -> Result<String, Failure> {
    serde_json::to_string(value).context(|| "recording the run's state".into())
}

/// Whether two paths name the same directory (as written, or on disk).
fn same_dir(a: &Path, b: &Path) -> bool {
    a == b
        || matches!(
            (a.canonicalize(), b.canonicalize()),
            (Ok(x), Ok(y)) if x == y
        )
}

fn write_csv(path: &Path, history: &[EpochStats]) -> Result<(), Failure> {
    let mut csv = String::from(
        "epoch,train_loss,test_accuracy,train_seconds,eval_seconds,samples_per_second\n",
    );
    for s in history {
        csv.push_str(&format!(
            "{},{},{:.4},{:.3},{:.3},{:.1}\n",
            s.epoch,
            significant(s.train_loss, 8),
            s.test_accuracy,
            s.train_seconds,
            s.eval_seconds,
            s.samples_per_second()
        ));
    }
    common::write_atomic(path, csv.as_bytes()).context(|| format!("writing {}", path.display()))
}

fn print_table(history: &[EpochStats]) {
    println!();
    println!("| epoch |  train loss | test accuracy | train s | eval s | samples/s |");
    println!("|------:|------------:|--------------:|--------:|-------:|----------:|");
    for s in history {
        println!(
            "| {:>5} | {:>11} | {:>12.2}% | {:>7.2} | {:>6.2} | {:>9.0} |",
            s.epoch,
            significant(s.train_loss, 8),
            100.0 * s.test_accuracy,
            s.train_seconds,
            s.eval_seconds,
            s.samples_per_second()
        );
    }
    println!();
}

/// `12345` as `12,345`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

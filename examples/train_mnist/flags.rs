//! The application's flags, and the flags a run records: what a resumed run
//! goes on with, checked against those given again.

use std::path::PathBuf;
use std::str::FromStr;

use clap::parser::ValueSource;
use clap::{ArgMatches, Parser};
use mithril::DType;
use serde::{Deserialize, Serialize};

use crate::common::flags::{Defaults, DeviceFlags, Training, at_least_one};
use crate::common::mnist::DataFlag;
use crate::failure::Failure;

/// Train the guide's CNN on MNIST with mithril on MLX: progress bar, metrics
/// CSV, chart, checkpoints and exact resumption, several processes.
#[derive(Parser, Debug)]
#[command(name = "train_mnist", version)]
pub struct Args {
    /// Passes over the training digits
    #[arg(long, value_parser = at_least_one)]
    pub epochs: Option<usize>,
    #[command(flatten)]
    pub train: Training,
    #[command(flatten)]
    pub device: DeviceFlags,
    /// Parameter and activation type: f32, f16 or bf16
    #[arg(long, default_value = "f32", value_parser = DType::from_str)]
    pub dtype: DType,
    /// Where to write mnist-metrics.csv, mnist-training.png,
    /// mnist-params.safetensors and the checkpoint
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    #[command(flatten)]
    pub data: DataFlag,
    /// Write a checkpoint of the whole run to OUT/mnist-checkpoint.safetensors
    /// every N steps and at the end
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub checkpoint_every: Option<usize>,
    /// Continue the run whose --out was DIR from its last checkpoint, with
    /// the flags it was started with, to the same final result
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
}

/// `--batch-size` (of all ranks together), `--lr` and `--epochs` when not given.
pub const DEFAULTS: Defaults = Defaults::new("64", "1e-3", [5, 2]);

/// The flags that decide a run's result: recorded in its checkpoints, and
/// what a resumed run goes on with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFlags {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    pub seed: u64,
    pub cpu: bool,
    pub gpu: bool,
    pub dtype: String,
    pub quick: bool,
    pub data: Option<PathBuf>,
    pub checkpoint_every: Option<usize>,
    /// Processes the run trains on (each step's batch is split among them).
    #[serde(default = "one")]
    pub ranks: usize,
}

fn one() -> usize {
    1
}

impl RunFlags {
    /// The flags of a new run on `ranks` processes.
    pub fn new(args: &Args, ranks: usize) -> RunFlags {
        let t = &args.train;
        RunFlags {
            // Two quick epochs: one epoch on 2,000 digits lands at 84-90%
            // depending on the seed, too close to the threshold to be a
            // stable check.
            epochs: DEFAULTS.length(args.epochs, t.quick),
            batch_size: t.batch_size,
            lr: t.lr,
            seed: t.seed,
            cpu: args.device.cpu,
            gpu: args.device.gpu,
            dtype: args.dtype.to_string(),
            quick: t.quick,
            data: args.data.data.clone(),
            checkpoint_every: args.checkpoint_every,
            ranks,
        }
    }

    /// The flags recorded in a run being resumed, checked against those
    /// given with `--resume`: each must have the recorded value, except
    /// `--lr` (a deliberate change, announced) and `--checkpoint-every`.
    pub fn resumed(
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

    /// The device the flags ask for.
    pub fn device(&self) -> mithril::Device {
        DeviceFlags {
            cpu: self.cpu,
            gpu: self.gpu,
        }
        .device()
    }

    /// The data flag the run was started with.
    pub fn data(&self) -> DataFlag {
        DataFlag {
            data: self.data.clone(),
        }
    }
}

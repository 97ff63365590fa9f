//! The flags the examples share, flattened into each one's own (`#[command(flatten)]`),
//! and their value parsers.

use clap::{ArgMatches, Command, CommandFactory, Parser};
use mithril::Device;

/// Counts and sizes: 1 or more.
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse() {
        Ok(0) => Err("must be at least 1".into()),
        n => n.map_err(|e: std::num::ParseIntError| e.to_string()),
    }
}

/// Learning rates: finite and above 0.
pub fn learning_rate(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(lr) if lr.is_finite() && lr > 0.0 => Ok(lr),
        Ok(_) => Err("must be a positive number".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The flags of every training example. `--batch-size` and `--lr` take the
/// example's own defaults (see [`parse`]).
#[derive(clap::Args, Clone, Debug)]
pub struct Training {
    /// Examples per training step
    #[arg(long, value_parser = at_least_one)]
    pub batch_size: usize,
    /// Adam's learning rate
    #[arg(long, value_parser = learning_rate)]
    pub lr: f32,
    /// Seed of the initial parameters and of the data's order
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// CI's short run: less training, and fail unless the example's check holds
    #[arg(long)]
    pub quick: bool,
}

/// Where to run: `--cpu`, `--gpu`, or the GPU where there is one.
#[derive(clap::Args, Clone, Debug)]
pub struct DeviceFlags {
    /// Run on the CPU
    #[arg(long, conflicts_with = "gpu")]
    pub cpu: bool,
    /// Run on the GPU (an error where this MLX build has none); without
    /// --cpu or --gpu, the GPU where there is one, else the CPU
    #[arg(long)]
    pub gpu: bool,
}

impl DeviceFlags {
    /// The device the flags ask for.
    pub fn device(&self) -> Device {
        match (self.cpu, self.gpu) {
            (true, _) => Device::Cpu,
            (_, true) => Device::Gpu,
            _ => Device::Auto,
        }
    }
}

/// The command of flags `A`, whose [`Training`] flags default to
/// `batch_size` and `lr`: each example trains best with its own.
pub fn command<A: CommandFactory>(batch_size: &'static str, lr: &'static str) -> Command {
    A::command()
        .mut_arg("batch_size", |a| a.required(false).default_value(batch_size))
        .mut_arg("lr", |a| a.required(false).default_value(lr))
}

/// The flags `A` of the command line and how each was given, with
/// [`Training`]'s defaults `batch_size` and `lr`; exits with clap's message
/// on a bad flag (and after `--help`).
pub fn parse_matches<A: Parser>(batch_size: &'static str, lr: &'static str) -> (A, ArgMatches) {
    let mut command = command::<A>(batch_size, lr);
    let matches = command.clone().get_matches();
    let args = A::from_arg_matches(&matches)
        .map_err(|e| e.format(&mut command))
        .unwrap_or_else(|e| e.exit());
    (args, matches)
}

/// [`parse_matches`] without the matches.
pub fn parse<A: Parser>(batch_size: &'static str, lr: &'static str) -> A {
    parse_matches(batch_size, lr).0
}

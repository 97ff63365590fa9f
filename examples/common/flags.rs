//! The flags the examples share, flattened into each one's own (`#[command(flatten)]`),
//! and their value parsers.

use clap::{ArgMatches, Command, CommandFactory, FromArgMatches, Parser};
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
/// example's own [`Defaults`].
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

/// An example's defaults for the shared flags: each trains best with its own.
pub struct Defaults {
    /// `--batch-size`.
    pub batch_size: &'static str,
    /// `--lr`.
    pub lr: &'static str,
    /// `--epochs` or `--steps` (whichever the example counts): without and
    /// with `--quick`.
    pub length: [usize; 2],
}

impl Defaults {
    /// `--batch-size`, `--lr`, and `--epochs` or `--steps` (without and
    /// with `--quick`).
    pub const fn new(batch_size: &'static str, lr: &'static str, length: [usize; 2]) -> Defaults {
        Defaults {
            batch_size,
            lr,
            length,
        }
    }

    /// The epochs or steps to run: `given`, or the default.
    pub fn length(&self, given: Option<usize>, quick: bool) -> usize {
        given.unwrap_or(self.length[usize::from(quick)])
    }
}

/// The command of flags `A`, with the example's [`Defaults`] for
/// [`Training`]'s flags and in the help of `--epochs` or `--steps`.
pub fn command<A: CommandFactory>(defaults: &Defaults) -> Command {
    with_defaults(A::command(), defaults)
}

/// The flags `F` of example `name`, described by `about`, for an example
/// with no flags of its own (see [`parse`]).
pub fn parse_flags<F: clap::Args + FromArgMatches>(
    name: &'static str,
    about: &'static str,
    defaults: &Defaults,
) -> F {
    let mut command = with_defaults(F::augment_args(Command::new(name)).about(about), defaults);
    let matches = command.clone().get_matches();
    F::from_arg_matches(&matches)
        .map_err(|e| e.format(&mut command))
        .unwrap_or_else(|e| e.exit())
}

/// `command` with [`Defaults`] (see [`command`]).
fn with_defaults(command: Command, defaults: &Defaults) -> Command {
    let mut command = command
        .mut_arg("batch_size", |a| {
            a.required(false).default_value(defaults.batch_size)
        })
        .mut_arg("lr", |a| a.required(false).default_value(defaults.lr));
    let [normal, quick] = defaults.length;
    for id in ["epochs", "steps"] {
        if command.get_arguments().any(|a| a.get_id() == id) {
            command = command.mut_arg(id, |a| {
                let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
                a.help(format!(
                    "{help} [default: {normal}, or {quick} with --quick]"
                ))
            });
        }
    }
    command
}

/// The flags `A` of the command line, read by `command` (see
/// [`command`]), and how each was given; exits with clap's message on a bad
/// flag (and after `--help`).
pub fn parse_matches<A: Parser>(mut command: Command) -> (A, ArgMatches) {
    let matches = command.clone().get_matches();
    let args = A::from_arg_matches(&matches)
        .map_err(|e| e.format(&mut command))
        .unwrap_or_else(|e| e.exit());
    (args, matches)
}

/// The flags `A` of the command line, with the example's [`Defaults`] (see
/// [`command`]); exits with clap's message on a bad flag (and after `--help`).
pub fn parse<A: Parser>(defaults: &Defaults) -> A {
    parse_matches(command::<A>(defaults)).0
}

//! The command line: `cargo mithril <command>`, as cargo runs it
//! (`cargo-mithril mithril <command>`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::project::DependencySource;

/// cargo passes the subcommand's own name as the first argument.
#[derive(Parser)]
#[command(name = "cargo", bin_name = "cargo")]
pub enum Cargo {
    /// Set up MLX for mithril, make crates that use it, run them.
    #[command(name = "mithril", version, about, long_about = None)]
    Mithril(Cli),
}

#[derive(Args)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install MLX for this user, once for every project (Linux x86_64).
    ///
    /// Downloads the PyPI wheel mlx-cpu==0.32.2 (sha256-checked), swaps its
    /// reference BLAS for Debian's OpenBLAS, and builds mlx-c against it, into
    /// $MITHRIL_HOME (default: $XDG_DATA_HOME/mithril or ~/.local/share/mithril).
    /// Installs missing Debian packages when run as root. Idempotent; offline
    /// once installed.
    Setup(SetupArgs),
    /// Say what is installed and what is missing.
    Doctor,
    /// Make a new crate that uses mithril: a model, a training loop, a test,
    /// and the cargo configuration the Linux build needs.
    New(NewArgs),
    /// Give an existing crate the cargo configuration the Linux build needs
    /// (merged into .cargo/config.toml), and optionally the dependency.
    Init(InitArgs),
    /// `cargo run` with MLX's CUDA build selected by `--gpu`.
    Run(RunArgs),
    /// Run a command as N ranks of a data-parallel MLX run (as `mlx.launch`
    /// does): each with MLX's distributed environment, output prefixed by
    /// rank, every rank stopped when one fails.
    ///
    /// Example: cargo mithril launch -n 2 -- cargo run --release --example train_mnist
    Launch(LaunchArgs),
}

#[derive(Args)]
struct SetupArgs {
    /// Also install MLX's CUDA build (mlx-cuda-13==0.32.2) for NVIDIA GPUs.
    #[arg(long)]
    cuda: bool,
    /// Only check the install (like `cargo mithril doctor`); change nothing.
    #[arg(long)]
    check: bool,
    /// Reinstall even if a complete install is present.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct DependencyArgs {
    /// Depend on a local checkout of mithril (a path dependency).
    #[arg(long, value_name = "DIR", conflicts_with = "mithril_git")]
    mithril_path: Option<PathBuf>,
    /// Depend on mithril from a git repository.
    #[arg(long, value_name = "URL")]
    mithril_git: Option<String>,
}

impl DependencyArgs {
    fn source(self) -> Option<DependencySource> {
        match (self.mithril_path, self.mithril_git) {
            (Some(path), _) => Some(DependencySource::Path(path)),
            (None, Some(url)) => Some(DependencySource::Git(url)),
            (None, None) => None,
        }
    }
}

#[derive(Args)]
struct NewArgs {
    /// Where to make the crate (its last component is the crate name).
    path: PathBuf,
    /// The package name, if not the directory's name.
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    dependency: DependencyArgs,
}

#[derive(Args)]
struct InitArgs {
    /// The crate's directory.
    #[arg(default_value = ".")]
    path: PathBuf,
    #[command(flatten)]
    dependency: DependencyArgs,
}

#[derive(Args)]
struct RunArgs {
    /// Run on MLX's CUDA build (installed by `cargo mithril setup --cuda`).
    #[arg(long)]
    gpu: bool,
    /// Arguments for `cargo run`, then `--` and the program's own.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    cargo_args: Vec<String>,
}

#[derive(Args)]
struct LaunchArgs {
    /// Ranks per host.
    #[arg(short = 'n', long = "ranks-per-host", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    ranks_per_host: u16,
    /// Comma-separated hosts (IP addresses for the ring backend; `localhost`).
    #[arg(long, default_value = "127.0.0.1", conflicts_with = "hostfile")]
    hosts: String,
    /// A hostfile in `mlx.launch`'s JSON format (one entry per rank).
    #[arg(long, value_name = "FILE")]
    hostfile: Option<PathBuf>,
    /// MLX's distributed backend [default: the hostfile's, else nccl with --gpu, else ring].
    #[arg(long, value_parser = ["ring", "nccl"])]
    backend: Option<String>,
    /// Run the ranks on MLX's CUDA build (`cargo mithril setup --cuda`).
    #[arg(long)]
    gpu: bool,
    /// The ring's first port (one per rank and address) or NCCL's port
    /// [default: free ports when every rank is local, else mlx.launch's].
    #[arg(long)]
    port: Option<u16>,
    /// `KEY=VALUE` for every rank (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Seconds the other ranks get to stop by themselves after one fails.
    #[arg(long, default_value_t = 10.0)]
    grace: f64,
    /// The ranks' working directory [default: this one].
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// The command each rank runs, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Setup(args) if args.check => crate::doctor::doctor(),
        Command::Setup(args) => {
            crate::setup::setup(&crate::setup::Options {
                cuda: args.cuda,
                force: args.force,
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor => crate::doctor::doctor(),
        Command::New(args) => {
            crate::project::new(&args.path, args.name.as_deref(), args.dependency.source())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Init(args) => {
            crate::project::init(&args.path, args.dependency.source())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => crate::run::run(args.gpu, &args.cargo_args),
        Command::Launch(args) => crate::launch::launch(&crate::launch::Request {
            ranks_per_host: usize::from(args.ranks_per_host),
            hosts: args.hosts,
            hostfile: args.hostfile,
            backend: args.backend,
            gpu: args.gpu,
            port: args.port,
            env: args.env,
            grace: args.grace,
            cwd: args.cwd,
            command: args.command,
        }),
    }
}

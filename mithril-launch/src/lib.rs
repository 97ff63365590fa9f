//! Launching a data-parallel MLX run, as `mlx.launch` does for Python: N
//! ranks of one command, each with the environment MLX's distributed
//! backends read (ring over TCP, or NCCL on NVIDIA GPUs), their output
//! forwarded with a rank prefix, and every rank stopped when one fails.
//!
//! `cargo mithril launch` is the command line over this crate; tests use it
//! directly to start real ranks.
//!
//! ```no_run
//! use mithril_launch::{Backend, Hostfile, Options, launch, plan};
//! let hosts = Hostfile::from_list("127.0.0.1", 2)?;
//! let ranks = plan(&hosts, Backend::Ring, None, &[])?;
//! let report = launch(&ranks, &["./train".into()], &Options::default())?;
//! assert!(report.success(), "{}", report.summary());
//! # Ok::<(), mithril_launch::LaunchError>(())
//! ```

mod hosts;
mod plan;
mod run;

pub use hosts::{Backend, Host, Hostfile};
pub use plan::{NCCL_PORT, RING_STARTING_PORT, RankSetup, plan};
pub use run::{Line, Options, RankEnd, Report, describe, launch, stop_ranks_on_interrupt};

/// Why a run could not be launched.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The hosts, hostfile or settings are unusable.
    #[error("{0}")]
    Hosts(String),
    /// A rank's command could not be started.
    #[error("{0}")]
    Command(String),
}

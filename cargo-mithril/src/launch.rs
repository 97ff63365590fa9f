//! `cargo mithril launch`: the command line over `mithril-launch`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use mithril_launch::{Backend, Hostfile, Options};

use crate::setup::{Platform, platform};

pub struct Request {
    pub ranks_per_host: usize,
    pub hosts: String,
    pub hostfile: Option<PathBuf>,
    pub backend: Option<String>,
    pub gpu: bool,
    pub port: Option<u16>,
    pub env: Vec<String>,
    pub grace: f64,
    pub cwd: Option<PathBuf>,
    pub command: Vec<String>,
}

pub fn launch(request: &Request) -> Result<ExitCode> {
    let hostfile = match &request.hostfile {
        Some(path) => {
            if request.ranks_per_host != 1 {
                bail!("-n repeats --hosts; a hostfile lists one entry per rank");
            }
            Hostfile::from_file(path)?
        }
        None => Hostfile::from_list(&request.hosts, request.ranks_per_host)?,
    };
    let backend = match (&request.backend, hostfile.backend) {
        (Some(name), _) => name.parse::<Backend>().map_err(anyhow::Error::msg)?,
        (None, Some(backend)) => backend,
        (None, None) if request.gpu => Backend::Nccl,
        (None, None) => Backend::Ring,
    };
    let mut env = Vec::new();
    if request.gpu && matches!(platform()?, Platform::LinuxX86_64) {
        for (key, value) in crate::run::cuda_environment()? {
            env.push(format!("{key}={}", value.to_string_lossy()));
        }
    }
    env.extend(request.env.iter().cloned());
    if !(request.grace.is_finite() && request.grace >= 0.0) {
        bail!("--grace must be a number of seconds, 0 or more");
    }
    let ranks = mithril_launch::plan(&hostfile, backend, request.port, &env)?;
    crate::process::status(
        "Launching",
        format!(
            "{} ranks ({} backend): {}",
            ranks.len(),
            backend.name(),
            request.command.join(" ")
        ),
    );
    mithril_launch::stop_ranks_on_interrupt();
    let report = mithril_launch::launch(
        &ranks,
        &request.command,
        &Options {
            grace: Duration::from_secs_f64(request.grace),
            cwd: request.cwd.clone(),
            capture: false,
        },
    )?;
    eprintln!("[launch] {}", report.summary());
    Ok(if report.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

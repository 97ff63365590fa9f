//! Each rank's environment, as MLX's distributed backends read it (and as
//! `mlx.launch` sets it):
//!
//! - ring: `MLX_RANK`, and `MLX_HOSTFILE`, the path of a JSON file listing
//!   every rank's `"ip:port"` addresses in rank order
//!   (`[["10.0.0.1:5000"], ["10.0.0.2:5001"]]`);
//! - NCCL: `MLX_RANK`, `MLX_WORLD_SIZE`, `NCCL_HOST_IP` and `NCCL_PORT` (rank
//!   0's address, where NCCL meets), and `CUDA_VISIBLE_DEVICES`, the rank's
//!   GPU among those of its host.

use std::net::TcpListener;

use crate::LaunchError;
use crate::hosts::{Backend, Host, Hostfile};

/// The port `mlx.launch` starts from for the ring backend.
pub const RING_STARTING_PORT: u16 = 32323;
/// The port `mlx.launch` gives NCCL.
pub const NCCL_PORT: u16 = 12345;

/// What one rank is started with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RankSetup {
    /// Its rank.
    pub rank: usize,
    /// Where it runs.
    pub host: Host,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Environment variables naming a file with this content (written by
    /// the launcher, as `mlx.launch` does for `MLX_HOSTFILE`).
    pub files: Vec<(String, String)>,
}

/// `count` distinct free ports on this machine, asked of the OS.
fn free_ports(count: usize) -> Result<Vec<u16>, LaunchError> {
    // Hold every listener until all are chosen, so no port comes twice.
    let listeners = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LaunchError::Hosts(format!("cannot find a free local port: {e}")))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()
        .map_err(|e| LaunchError::Hosts(format!("cannot find a free local port: {e}")))
}

fn all_local(hosts: &[Host]) -> bool {
    hosts.iter().all(Host::is_local)
}

fn parse_env(setting: &str) -> Result<(String, String), LaunchError> {
    match setting.split_once('=') {
        Some((key, value))
            if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            Ok((key.to_string(), value.to_string()))
        }
        _ => Err(LaunchError::Hosts(format!(
            "`{setting}` is not an environment setting `KEY=VALUE`"
        ))),
    }
}

/// Every rank's set-up for `backend`. `port` is the ring's starting port or
/// NCCL's port; by default free ports are chosen when every rank is local,
/// else `mlx.launch`'s defaults. `extra_env` (`KEY=VALUE`) goes to every rank
/// after the hostfile's own.
pub fn plan(
    hostfile: &Hostfile,
    backend: Backend,
    port: Option<u16>,
    extra_env: &[String],
) -> Result<Vec<RankSetup>, LaunchError> {
    let hosts = &hostfile.hosts;
    if hosts.is_empty() {
        return Err(LaunchError::Hosts("no hosts to run on".into()));
    }
    let mut common = Vec::new();
    for setting in hostfile.envs.iter().chain(extra_env) {
        common.push(parse_env(setting)?);
    }
    let mut ranks: Vec<RankSetup> = hosts
        .iter()
        .enumerate()
        .map(|(rank, host)| RankSetup {
            rank,
            host: host.clone(),
            env: common.clone(),
            files: Vec::new(),
        })
        .collect();
    match backend {
        Backend::Ring => {
            if let Some(rank) = hosts.iter().position(|h| h.ips.is_empty()) {
                return Err(LaunchError::Hosts(format!(
                    "the ring backend needs IP addresses, and host `{}` (rank {rank}) has none: give IPs in --hosts or `ips` in the hostfile",
                    hosts[rank].ssh
                )));
            }
            let addresses: usize = hosts.iter().map(|h| h.ips.len()).sum();
            let mut ports = match port {
                Some(start) => (0..addresses)
                    .map(|i| start.checked_add(i as u16))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        LaunchError::Hosts(format!("ports from {start} run past 65535"))
                    })?,
                None if all_local(hosts) => free_ports(addresses)?,
                None => (0..addresses)
                    .map(|i| RING_STARTING_PORT + i as u16)
                    .collect(),
            }
            .into_iter();
            let ring: Vec<Vec<String>> = hosts
                .iter()
                .map(|h| {
                    h.ips
                        .iter()
                        .map(|ip| format!("{ip}:{}", ports.next().unwrap_or_default()))
                        .collect()
                })
                .collect();
            let hostfile_json = serde_json::to_string(&ring).unwrap_or_default();
            for setup in &mut ranks {
                setup.env.push(("MLX_RANK".into(), setup.rank.to_string()));
                // One rank is a group of one: no hostfile (MLX would try to parse it).
                if hosts.len() > 1 {
                    setup
                        .files
                        .push(("MLX_HOSTFILE".into(), hostfile_json.clone()));
                }
            }
        }
        Backend::Nccl => {
            let Some(master) = hosts[0].ips.first() else {
                return Err(LaunchError::Hosts(format!(
                    "NCCL meets at rank 0's address, and host `{}` has none: give IPs in --hosts or `ips` in the hostfile",
                    hosts[0].ssh
                )));
            };
            let port = match port {
                Some(p) => p,
                None if all_local(hosts) => free_ports(1)?[0],
                None => NCCL_PORT,
            };
            let world = hosts.len().to_string();
            for setup in &mut ranks {
                // The rank's GPU: how many ranks before it share its host.
                let local_index = hosts[..setup.rank]
                    .iter()
                    .filter(|h| h.ssh == setup.host.ssh)
                    .count();
                setup.env.extend([
                    ("MLX_RANK".into(), setup.rank.to_string()),
                    ("MLX_WORLD_SIZE".into(), world.clone()),
                    ("NCCL_HOST_IP".into(), master.clone()),
                    ("NCCL_PORT".into(), port.to_string()),
                    ("CUDA_VISIBLE_DEVICES".into(), local_index.to_string()),
                ]);
            }
        }
    }
    Ok(ranks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(setup: &'a RankSetup, key: &str) -> Option<&'a str> {
        setup
            .env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn ring_ranks_get_their_rank_and_everyone_s_addresses() {
        let hosts = Hostfile::from_list("10.0.0.1,10.0.0.2", 1).unwrap();
        let ranks = plan(&hosts, Backend::Ring, Some(5000), &["A=b=c".into()]).unwrap();
        assert_eq!(env(&ranks[1], "MLX_RANK"), Some("1"));
        assert_eq!(env(&ranks[0], "A"), Some("b=c"));
        assert_eq!(
            ranks[0].files,
            [(
                "MLX_HOSTFILE".to_string(),
                r#"[["10.0.0.1:5000"],["10.0.0.2:5001"]]"#.to_string()
            )]
        );
        assert_eq!(ranks[0].files, ranks[1].files);
    }

    #[test]
    fn local_ring_ranks_get_distinct_free_ports() {
        let hosts = Hostfile::from_list("127.0.0.1", 3).unwrap();
        let ranks = plan(&hosts, Backend::Ring, None, &[]).unwrap();
        let ring: Vec<Vec<String>> = serde_json::from_str(&ranks[0].files[0].1).unwrap();
        let mut ports: Vec<&String> = ring.iter().flatten().collect();
        ports.dedup();
        assert_eq!(ports.len(), 3);
    }

    #[test]
    fn nccl_ranks_get_one_gpu_each_per_host() {
        let hosts = Hostfile::from_list("10.0.0.1,10.0.0.2", 2).unwrap();
        let ranks = plan(&hosts, Backend::Nccl, None, &[]).unwrap();
        let gpus: Vec<&str> = ranks
            .iter()
            .map(|r| env(r, "CUDA_VISIBLE_DEVICES").unwrap())
            .collect();
        assert_eq!(gpus, ["0", "1", "0", "1"]);
        assert_eq!(env(&ranks[3], "NCCL_HOST_IP"), Some("10.0.0.1"));
        assert_eq!(env(&ranks[3], "NCCL_PORT"), Some("12345"));
        assert_eq!(env(&ranks[3], "MLX_WORLD_SIZE"), Some("4"));
    }

    #[test]
    fn hosts_without_addresses_and_bad_settings_are_errors() {
        let named = Hostfile::from_list("node1,node2", 1).unwrap();
        assert!(plan(&named, Backend::Ring, None, &[]).is_err());
        assert!(plan(&named, Backend::Nccl, None, &[]).is_err());
        let local = Hostfile::from_list("localhost", 1).unwrap();
        assert!(plan(&local, Backend::Ring, None, &["NOVALUE".into()]).is_err());
    }
}

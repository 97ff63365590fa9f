//! Where ranks run: a list of hosts (`--hosts a,b`, each repeated `-n`
//! times) or a hostfile in `mlx.launch`'s JSON format:
//!
//! ```json
//! {
//!   "backend": "ring",
//!   "envs": ["MLX_METAL_FAST_SYNCH=1"],
//!   "hosts": [
//!     {"ssh": "node1", "ips": ["10.0.0.1"]},
//!     {"ssh": "node2", "ips": ["10.0.0.2"]}
//!   ]
//! }
//! ```
//!
//! (or just the `hosts` list). One entry is one rank; `ssh` is how to reach
//! the host, `ips` the addresses the ranks talk over.

use std::net::IpAddr;
use std::path::Path;

use serde_json::Value;

use crate::LaunchError;

/// MLX's distributed backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// TCP sockets in a ring (CPUs, any hosts).
    Ring,
    /// NVIDIA's NCCL (one GPU per rank).
    Nccl,
}

impl Backend {
    /// Its name in MLX (`mx.distributed.init(backend=...)`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Ring => "ring",
            Backend::Nccl => "nccl",
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Backend, String> {
        match s {
            "ring" => Ok(Backend::Ring),
            "nccl" => Ok(Backend::Nccl),
            other => Err(format!("unknown backend `{other}`: use `ring` or `nccl`")),
        }
    }
}

/// One rank's host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// How to reach it (`ssh` target), or a local address.
    pub ssh: String,
    /// The addresses ranks on it listen on.
    pub ips: Vec<String>,
}

impl Host {
    /// Whether the rank runs here, without ssh.
    pub fn is_local(&self) -> bool {
        matches!(self.ssh.as_str(), "localhost" | "127.0.0.1" | "::1")
    }
}

/// The hosts of a run, one per rank, and the hostfile's own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hostfile {
    /// The backend the hostfile asks for, if any.
    pub backend: Option<Backend>,
    /// `KEY=VALUE` settings for every rank.
    pub envs: Vec<String>,
    /// One entry per rank.
    pub hosts: Vec<Host>,
}

impl Hostfile {
    /// `a,b` with each host repeated `repeat` times (`localhost` and IP
    /// addresses are their own address).
    pub fn from_list(list: &str, repeat: usize) -> Result<Hostfile, LaunchError> {
        let mut hosts = Vec::new();
        for name in list.split(',') {
            let name = name.trim();
            if name.is_empty() {
                return Err(LaunchError::Hosts("a host name is empty".into()));
            }
            let ips = if name == "localhost" {
                vec!["127.0.0.1".to_string()]
            } else if name.parse::<IpAddr>().is_ok() {
                vec![name.to_string()]
            } else {
                Vec::new()
            };
            for _ in 0..repeat {
                hosts.push(Host {
                    ssh: name.to_string(),
                    ips: ips.clone(),
                });
            }
        }
        Ok(Hostfile {
            backend: None,
            envs: Vec::new(),
            hosts,
        })
    }

    /// Reads a hostfile.
    pub fn from_file(path: &Path) -> Result<Hostfile, LaunchError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            LaunchError::Hosts(format!("cannot read hostfile {}: {e}", path.display()))
        })?;
        Hostfile::parse(&text)
            .map_err(|e| LaunchError::Hosts(format!("hostfile {}: {e}", path.display())))
    }

    /// Parses a hostfile's JSON.
    pub fn parse(json: &str) -> Result<Hostfile, String> {
        let value: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let (backend, envs, hosts) = match &value {
            Value::Array(hosts) => (None, Vec::new(), hosts),
            Value::Object(map) => {
                let backend = match map.get("backend") {
                    None => None,
                    Some(Value::String(s)) if s.is_empty() => None,
                    Some(Value::String(s)) => Some(s.parse::<Backend>()?),
                    Some(_) => return Err("`backend` is not a string".into()),
                };
                let envs = match map.get("envs") {
                    None => Vec::new(),
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|e| e.as_str().map(String::from))
                        .collect::<Option<Vec<_>>>()
                        .ok_or("`envs` must be strings `KEY=VALUE`")?,
                    Some(_) => return Err("`envs` is not a list".into()),
                };
                let Some(Value::Array(hosts)) = map.get("hosts") else {
                    return Err("no `hosts` list".into());
                };
                (backend, envs, hosts)
            }
            _ => return Err("expected a list of hosts or an object with `hosts`".into()),
        };
        let hosts = hosts
            .iter()
            .enumerate()
            .map(|(rank, h)| {
                let ssh = h
                    .get("ssh")
                    .and_then(Value::as_str)
                    .ok_or(format!("host {rank} has no `ssh` name"))?;
                let ips = match h.get("ips") {
                    None => Vec::new(),
                    Some(Value::Array(ips)) => ips
                        .iter()
                        .map(|ip| ip.as_str().map(String::from))
                        .collect::<Option<Vec<_>>>()
                        .ok_or(format!("host {rank}: `ips` must be strings"))?,
                    Some(_) => return Err(format!("host {rank}: `ips` is not a list")),
                };
                Ok(Host {
                    ssh: ssh.to_string(),
                    ips,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if hosts.is_empty() {
            return Err("the hosts list is empty".into());
        }
        Ok(Hostfile {
            backend,
            envs,
            hosts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlx_launch_hostfiles_parse() {
        let full = r#"{"backend": "nccl", "envs": ["A=1"], "hosts": [
            {"ssh": "n1", "ips": ["10.0.0.1"], "rdma": []}, {"ssh": "n2", "ips": ["10.0.0.2"]}]}"#;
        let h = Hostfile::parse(full).unwrap();
        assert_eq!(h.backend, Some(Backend::Nccl));
        assert_eq!(h.envs, ["A=1"]);
        assert_eq!(h.hosts[1].ips, ["10.0.0.2"]);
        let list = Hostfile::parse(r#"[{"ssh": "127.0.0.1", "ips": ["127.0.0.1"]}]"#).unwrap();
        assert!(list.hosts[0].is_local());
    }

    #[test]
    fn bad_hostfiles_say_what_is_wrong() {
        for (json, says) in [
            ("{", "EOF"),
            ("[]", "empty"),
            (r#"[{"ips": []}]"#, "no `ssh`"),
            (
                r#"{"backend": "mpi", "hosts": [{"ssh": "a"}]}"#,
                "unknown backend",
            ),
            ("3", "expected a list"),
        ] {
            let err = Hostfile::parse(json).unwrap_err();
            assert!(err.contains(says), "{json}: {err}");
        }
    }

    #[test]
    fn a_host_list_repeats_each_host() {
        let h = Hostfile::from_list("localhost,10.0.0.2,node3", 2).unwrap();
        assert_eq!(h.hosts.len(), 6);
        assert_eq!(h.hosts[1].ips, ["127.0.0.1"]);
        assert_eq!(h.hosts[2].ips, ["10.0.0.2"]);
        assert!(h.hosts[4].ips.is_empty());
        assert!(Hostfile::from_list("a,,b", 1).is_err());
    }
}

//! Starting the ranks, forwarding their output line by line with a rank
//! prefix, and stopping every rank when one fails.
//!
//! Each local rank runs in its own process group, so stopping it also stops
//! what it started (`cargo run` and the program it runs). When a rank fails,
//! the others get `grace` to stop by themselves (MLX reports a lost peer as
//! an error, which is the message worth seeing), then SIGTERM, then SIGKILL.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::LaunchError;
use crate::plan::RankSetup;

/// How a run is supervised.
#[derive(Clone, Debug)]
pub struct Options {
    /// How long the other ranks may take to stop by themselves after one
    /// fails, before they are terminated.
    pub grace: Duration,
    /// The ranks' working directory (default: the launcher's).
    pub cwd: Option<PathBuf>,
    /// Keep the ranks' output in the [`Report`] instead of printing it.
    pub capture: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            grace: Duration::from_secs(10),
            cwd: None,
            capture: false,
        }
    }
}

/// A line a rank wrote, when output is captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The rank.
    pub rank: usize,
    /// Whether it went to stderr.
    pub stderr: bool,
    /// The text, without its newline.
    pub text: String,
}

/// How a rank ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RankEnd {
    /// It exited with status 0.
    Succeeded,
    /// It exited otherwise, by itself: why, in words.
    Failed(String),
    /// The launcher stopped it after another rank failed or on an interrupt.
    Stopped,
}

/// How every rank ended.
#[derive(Clone, Debug)]
pub struct Report {
    /// One entry per rank.
    pub ends: Vec<RankEnd>,
    /// The rank that failed first, if any.
    pub first_failure: Option<usize>,
    /// Whether the launcher was interrupted (SIGINT or SIGTERM).
    pub interrupted: bool,
    /// The ranks' output, in the order it arrived, when captured.
    pub output: Vec<Line>,
}

impl Report {
    /// Whether every rank succeeded.
    pub fn success(&self) -> bool {
        self.ends.iter().all(|e| *e == RankEnd::Succeeded)
    }

    /// What `rank` wrote (both streams), one line each, when captured.
    pub fn output_of(&self, rank: usize) -> String {
        self.output
            .iter()
            .filter(|l| l.rank == rank)
            .map(|l| format!("{}\n", l.text))
            .collect()
    }

    /// A one-line summary.
    pub fn summary(&self) -> String {
        if self.success() {
            return format!("all {} ranks succeeded", self.ends.len());
        }
        let parts: Vec<String> = self
            .ends
            .iter()
            .enumerate()
            .map(|(rank, end)| match end {
                RankEnd::Succeeded => format!("rank {rank} succeeded"),
                RankEnd::Failed(why) => format!("rank {rank} {why}"),
                RankEnd::Stopped => format!("rank {rank} was stopped by the launcher"),
            })
            .collect();
        let first = match self.first_failure {
            Some(rank) => format!("rank {rank} failed first; "),
            None if self.interrupted => "interrupted; ".to_string(),
            None => String::new(),
        };
        format!("{first}{}", parts.join(", "))
    }
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Makes SIGINT and SIGTERM stop the ranks (which run in their own process
/// groups, out of the terminal's reach) instead of killing the launcher alone.
pub fn stop_ranks_on_interrupt() {
    let handler = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// Why a process ended, in words.
pub fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with code {code}");
    }
    match status.signal() {
        Some(signal) => {
            let name = match signal {
                libc::SIGKILL => " (SIGKILL)",
                libc::SIGTERM => " (SIGTERM)",
                libc::SIGSEGV => " (SIGSEGV)",
                libc::SIGABRT => " (SIGABRT)",
                libc::SIGINT => " (SIGINT)",
                libc::SIGBUS => " (SIGBUS)",
                _ => "",
            };
            format!("was killed by signal {signal}{name}")
        }
        None => format!("ended ({status})"),
    }
}

/// A shell word, single-quoted.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The command that starts a rank on a remote host over ssh: its files
/// written to temporary files there, its environment exported, then `exec`.
fn remote_script(setup: &RankSetup, command: &[String], cwd: &Path) -> String {
    let mut script = format!("cd {} && ", quote(&cwd.display().to_string()));
    for (key, value) in &setup.env {
        script += &format!("export {key}={} && ", quote(value));
    }
    for (key, content) in &setup.files {
        script += &format!(
            "f=$(mktemp) && printf %s {} > \"$f\" && export {key}=\"$f\" && ",
            quote(content)
        );
    }
    script += "exec";
    for word in command {
        script += " ";
        script += &quote(word);
    }
    script
}

type Captured = Arc<Mutex<Vec<Line>>>;

/// Copies `stream` line by line to our stdout or stderr with the rank's
/// prefix (whole lines, so ranks do not interleave within one), or into
/// `captured`.
fn forward(
    stream: impl Read + Send + 'static,
    rank: usize,
    to_stderr: bool,
    captured: Option<Captured>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let prefix = format!("[rank {rank}] ");
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if let Some(captured) = &captured {
                        let text = String::from_utf8_lossy(&line)
                            .trim_end_matches('\n')
                            .to_string();
                        if let Ok(mut lines) = captured.lock() {
                            lines.push(Line {
                                rank,
                                stderr: to_stderr,
                                text,
                            });
                        }
                        continue;
                    }
                    if !line.ends_with(b"\n") {
                        line.push(b'\n');
                    }
                    let mut out: Box<dyn Write> = if to_stderr {
                        Box::new(std::io::stderr().lock())
                    } else {
                        Box::new(std::io::stdout().lock())
                    };
                    let _ = out.write_all(prefix.as_bytes());
                    let _ = out.write_all(&line);
                    let _ = out.flush();
                }
            }
        }
    })
}

fn signal_group(group: libc::pid_t, signal: libc::c_int) {
    // SAFETY: kill(2) on a rank's own process group (its leader's pid, as it
    // was started with process_group(0)). The group outlives its leader
    // while any member lives, and nothing else can take the id meanwhile.
    unsafe {
        libc::kill(-group, signal);
    }
}

/// Runs `command` as every rank of `ranks` and waits for all of them.
pub fn launch(
    ranks: &[RankSetup],
    command: &[String],
    options: &Options,
) -> Result<Report, LaunchError> {
    let Some(program) = command.first() else {
        return Err(LaunchError::Command("no command to run".into()));
    };
    let cwd = match &options.cwd {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().map_err(|e| LaunchError::Command(e.to_string()))?,
    };
    // The ranks' hostfiles: one directory per launch (several may run in one
    // process), removed when the launch returns.
    let scratch_dir = tempfile::Builder::new()
        .prefix("mithril-launch-")
        .tempdir()
        .map_err(|e| LaunchError::Command(format!("creating a temporary directory: {e}")))?;
    let scratch = scratch_dir.path();

    let mut children: Vec<Child> = Vec::new();
    let mut forwarders = Vec::new();
    let captured: Option<Captured> = options.capture.then(Captured::default);
    let started = (|| -> Result<(), LaunchError> {
        for setup in ranks {
            let mut cmd = if setup.host.is_local() {
                let mut cmd = Command::new(program);
                cmd.args(&command[1..])
                    .current_dir(&cwd)
                    .envs(setup.env.iter().cloned());
                for (key, content) in &setup.files {
                    let path = scratch.join(format!("{key}-{}", setup.rank));
                    std::fs::write(&path, content).map_err(|e| {
                        LaunchError::Command(format!("writing {}: {e}", path.display()))
                    })?;
                    cmd.env(key, &path);
                }
                cmd
            } else {
                let mut cmd = Command::new("ssh");
                cmd.args(["-o", "LogLevel=QUIET", &setup.host.ssh])
                    .arg(remote_script(setup, command, &cwd));
                cmd
            };
            cmd.process_group(0)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().map_err(|e| {
                LaunchError::Command(format!(
                    "cannot start `{program}` for rank {}: {e}",
                    setup.rank
                ))
            })?;
            if let Some(out) = child.stdout.take() {
                forwarders.push(forward(out, setup.rank, false, captured.clone()));
            }
            if let Some(err) = child.stderr.take() {
                forwarders.push(forward(err, setup.rank, true, captured.clone()));
            }
            children.push(child);
        }
        Ok(())
    })();
    if let Err(e) = started {
        for child in &mut children {
            signal_group(child.id() as libc::pid_t, libc::SIGKILL);
            let _ = child.wait();
        }
        return Err(e);
    }

    // One thread per rank waits for it, so exits arrive in the order they
    // happen (the first failure is the one that matters).
    let (exited, exits) = mpsc::channel::<(usize, ExitStatus)>();
    let groups: Vec<libc::pid_t> = children.iter().map(|c| c.id() as libc::pid_t).collect();
    for (rank, mut child) in children.into_iter().enumerate() {
        let exited = exited.clone();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = exited.send((rank, status));
            }
        });
    }
    drop(exited);

    let mut ends: Vec<Option<RankEnd>> = vec![None; groups.len()];
    let mut first_failure = None;
    let mut terminate_at: Option<Instant> = None;
    let mut kill_at: Option<Instant> = None;
    let mut interrupted = false;
    while ends.iter().any(Option::is_none) {
        match exits.recv_timeout(Duration::from_millis(20)) {
            Ok((rank, status)) => {
                let stopping = terminate_at.is_some_and(|t| Instant::now() >= t);
                ends[rank] = Some(if status.success() {
                    RankEnd::Succeeded
                } else if stopping {
                    RankEnd::Stopped
                } else {
                    RankEnd::Failed(describe(status))
                });
                if !status.success() && !stopping && first_failure.is_none() && !interrupted {
                    first_failure = Some(rank);
                    if !options.capture {
                        eprintln!(
                            "[launch] rank {rank} {}; the other ranks get {} s to stop by themselves",
                            describe(status),
                            options.grace.as_secs_f32()
                        );
                    }
                    terminate_at = Some(Instant::now() + options.grace);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // Every waiter is gone: a rank could not be waited for.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if !interrupted && INTERRUPTED.load(Ordering::SeqCst) {
            interrupted = true;
            terminate_at = Some(Instant::now());
        }
        let now = Instant::now();
        let running = || (0..groups.len()).filter(|&rank| ends[rank].is_none());
        if terminate_at.is_some_and(|t| now >= t) && kill_at.is_none() {
            for rank in running() {
                signal_group(groups[rank], libc::SIGTERM);
            }
            kill_at = Some(now + Duration::from_secs(5));
        }
        if kill_at.is_some_and(|t| now >= t) {
            for rank in running() {
                signal_group(groups[rank], libc::SIGKILL);
            }
        }
    }
    for f in forwarders {
        let _ = f.join();
    }
    drop(scratch_dir);
    let output = captured
        .and_then(|c| c.lock().ok().map(|lines| lines.clone()))
        .unwrap_or_default();
    Ok(Report {
        ends: ends
            .into_iter()
            .map(|e| e.unwrap_or(RankEnd::Stopped))
            .collect(),
        first_failure,
        interrupted,
        output,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hosts::{Backend, Hostfile};
    use crate::plan::plan;

    fn ranks(n: usize) -> Vec<RankSetup> {
        plan(
            &Hostfile::from_list("127.0.0.1", n).unwrap(),
            Backend::Ring,
            None,
            &[],
        )
        .unwrap()
    }

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn every_rank_gets_its_environment_and_all_succeed() {
        let single = r#"test -z "$MLX_HOSTFILE" && test "$MLX_RANK" = 0"#;
        let report = launch(&ranks(1), &sh(single), &Options::default()).unwrap();
        assert!(report.success(), "{}", report.summary());
        let ring = r#"test "$(head -c 2 "$MLX_HOSTFILE")" = '[[' && test "$MLX_RANK" -lt 3"#;
        let report = launch(&ranks(3), &sh(ring), &Options::default()).unwrap();
        assert!(report.success(), "{}", report.summary());
    }

    #[test]
    fn captured_output_is_kept_per_rank() {
        let options = Options {
            capture: true,
            ..Options::default()
        };
        let report = launch(
            &ranks(2),
            &sh(r#"echo "out $MLX_RANK"; echo "err $MLX_RANK" >&2"#),
            &options,
        )
        .unwrap();
        assert!(report.output_of(1).contains("out 1\n") && report.output_of(1).contains("err 1\n"));
        assert!(!report.output_of(0).contains('1'));
    }

    #[test]
    fn a_failing_rank_stops_the_others_and_is_reported() {
        let options = Options {
            grace: Duration::from_millis(300),
            ..Options::default()
        };
        let started = Instant::now();
        let report = launch(
            &ranks(3),
            &sh(r#"if [ "$MLX_RANK" = 1 ]; then kill -9 $$; fi; sleep 60"#),
            &options,
        )
        .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the others were not stopped"
        );
        assert_eq!(report.first_failure, Some(1));
        assert_eq!(
            report.ends[1],
            RankEnd::Failed("was killed by signal 9 (SIGKILL)".into())
        );
        assert_eq!(report.ends[0], RankEnd::Stopped);
        assert!(
            report.summary().contains("rank 1 failed first"),
            "{}",
            report.summary()
        );
    }

    #[test]
    fn a_missing_program_is_an_error() {
        let err = launch(
            &ranks(2),
            &["/nonexistent/program".into()],
            &Options::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("cannot start"), "{err}");
    }

    #[test]
    fn remote_scripts_quote_everything() {
        let setup = RankSetup {
            rank: 1,
            host: crate::hosts::Host {
                ssh: "node".into(),
                ips: vec![],
            },
            env: vec![("MLX_RANK".into(), "1".into())],
            files: vec![("MLX_HOSTFILE".into(), "[[\"a:1\"]]".into())],
        };
        let script = remote_script(&setup, &["prog".into(), "it's".into()], Path::new("/w d"));
        assert_eq!(
            script,
            r#"cd '/w d' && export MLX_RANK='1' && f=$(mktemp) && printf %s '[["a:1"]]' > "$f" && export MLX_HOSTFILE="$f" && exec 'prog' 'it'\''s'"#
        );
    }
}

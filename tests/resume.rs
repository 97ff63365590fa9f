//! Kill and resume: a training run in a child process (this test binary,
//! started again with `MITHRIL_TEST_CHILD` set) is killed with SIGKILL at
//! several points and resumed from its last checkpoint each time, and must
//! end bit-identical to a run that was never interrupted: every parameter,
//! batch statistic, Adam moment, the random key, the step count and the
//! exact sum of the losses. In compiled and in eager mode.
//!
//! The kill points: between steps (the child waits for a go-ahead after
//! each step, so the kill lands exactly there), a few microseconds into a
//! step, inside a checkpoint's write (the child stops where
//! `io::fault::set_write_hook` reports it: half the bytes written, all
//! written and flushed but not renamed, renamed but the directory not
//! flushed), and at seeded random times. After every kill the checkpoint
//! on disk must load.
//!
//! A harness-free test binary (`harness = false`): its `main` is the parent
//! or, with the variable set, the child.

#[path = "common/training_run.rs"]
mod training_run;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mithril::checkpoint::Checkpoint;
use mithril::io::fault::WriteStage;
use training_run::{Run, contents};

/// Set in the child's environment: `<dir>;<compiled|eager>;<lockstep 0|1>;<pause>`,
/// the pause being `<stage>@<n>` (stop at that stage of the n-th
/// checkpoint write) or empty.
const CHILD: &str = "MITHRIL_TEST_CHILD";
/// Steps between checkpoints.
const EVERY: u64 = 3;
const CHECKPOINT: &str = "checkpoint.safetensors";

fn main() {
    match std::env::var(CHILD) {
        Ok(spec) => child(&spec),
        Err(_) => {
            let start = Instant::now();
            for graph_mode in [true, false] {
                let kills = kill_and_resume(graph_mode);
                println!(
                    "{}: {kills} kills, resumed each time; final state bit-identical to the uninterrupted run",
                    if graph_mode { "compiled" } else { "eager" }
                );
            }
            println!(
                "kill-and-resume: ok in {:.1} s",
                start.elapsed().as_secs_f64()
            );
        }
    }
}

// ---------------------------------------------------------------------------
// The child: train to the end (or until killed), checkpointing every EVERY steps.

static PAUSE: OnceLock<(WriteStage, u64)> = OnceLock::new();
static WRITES: AtomicU64 = AtomicU64::new(0);

fn stage_name(stage: WriteStage) -> &'static str {
    match stage {
        WriteStage::HalfWritten => "half",
        WriteStage::Synced => "synced",
        WriteStage::Renamed => "renamed",
    }
}

/// Announces the chosen stage of the chosen checkpoint write, then waits
/// to be killed.
fn pause_here(path: &Path, stage: WriteStage) {
    if path.file_name().and_then(|n| n.to_str()) != Some(CHECKPOINT) {
        return;
    }
    let write = match stage {
        WriteStage::HalfWritten => WRITES.fetch_add(1, Ordering::SeqCst) + 1,
        _ => WRITES.load(Ordering::SeqCst),
    };
    if PAUSE.get() == Some(&(stage, write)) {
        println!("paused {} {write}", stage_name(stage));
        std::io::stdout().flush().ok();
        loop {
            std::thread::sleep(Duration::from_secs(60));
        }
    }
}

fn child(spec: &str) {
    let parts: Vec<&str> = spec.split(';').collect();
    let [dir, mode, lockstep, pause] = parts[..] else {
        panic!("bad {CHILD}: {spec}")
    };
    let (dir, graph_mode, lockstep) = (PathBuf::from(dir), mode == "compiled", lockstep == "1");
    if let Some((stage, n)) = pause.split_once('@') {
        let stage = match stage {
            "half" => WriteStage::HalfWritten,
            "synced" => WriteStage::Synced,
            _ => WriteStage::Renamed,
        };
        PAUSE.set((stage, n.parse().unwrap())).unwrap();
        assert!(mithril::io::fault::set_write_hook(pause_here));
    }
    let path = dir.join(CHECKPOINT);
    let mut run = match path.exists() {
        true => Run::resume(graph_mode, &path).expect("resume"),
        false => Run::new(graph_mode, 5),
    };
    println!("start {}", run.trainer.steps());
    let stdin = std::io::stdin();
    let finished = run
        .train(EVERY, &path, |r| {
            println!("step {}", r.trainer.steps());
            std::io::stdout().flush().ok();
            if lockstep {
                let mut go = String::new();
                stdin.lock().read_line(&mut go).ok();
            }
            false
        })
        .expect("train");
    assert!(finished);
    mithril::io::save_params::<training_run::Tiny>(
        &run.params,
        dir.join("final-params.safetensors"),
    )
    .expect("final parameters");
    run.trainer
        .save_checkpoint(dir.join("final.safetensors"), &run.params, &run.progress)
        .expect("final checkpoint");
    println!("done");
}

// ---------------------------------------------------------------------------
// The parent.

/// Where to kill a child.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// Right after its `ahead`-th step (the child waits for the go-ahead),
    /// or `micros` microseconds into the next one.
    AfterStep { ahead: u64, micros: u64 },
    /// At `stage` of this process's `n`-th checkpoint write.
    InWrite { stage: WriteStage, n: u64 },
    /// After `millis` milliseconds, wherever the child is.
    After { millis: u64 },
}

struct Spawned {
    child: Child,
    stdin: ChildStdin,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

fn spawn(dir: &Path, graph_mode: bool, lockstep: bool, pause: &str) -> Spawned {
    let spec = format!(
        "{};{};{};{pause}",
        dir.display(),
        if graph_mode { "compiled" } else { "eager" },
        u8::from(lockstep)
    );
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, spec)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child");
    let stdin = child.stdin.take().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    Spawned {
        child,
        stdin,
        lines,
    }
}

/// Kills the child with SIGKILL (what `Child::kill` sends on Unix);
/// `false` when it had already finished by itself.
fn sigkill(child: &mut Child) -> bool {
    child.kill().ok();
    let status = child.wait().expect("wait");
    if status.success() {
        return false;
    }
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9), "the child failed: {status}");
    true
}

/// Steps of the checkpoint on disk, if one loads; fails the test if the
/// file exists but does not load.
fn checkpoint_steps(dir: &Path) -> Option<u64> {
    let path = dir.join(CHECKPOINT);
    path.exists().then(|| {
        Checkpoint::load(&path)
            .unwrap_or_else(|e| panic!("the checkpoint left by a killed run does not load: {e}"))
            .steps()
    })
}

fn temporaries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        .collect()
}

/// Runs one child in `dir` and kills it at `kill`; checks what it left.
/// `false` when the child finished before a timed kill.
fn run_and_kill(dir: &Path, graph_mode: bool, kill: Kill) -> bool {
    let lockstep = matches!(kill, Kill::AfterStep { .. });
    let pause = match kill {
        Kill::InWrite { stage, n } => format!("{}@{n}", stage_name(stage)),
        _ => String::new(),
    };
    let mut s = spawn(dir, graph_mode, lockstep, &pause);
    let mut start = None;
    match kill {
        Kill::After { millis } => {
            std::thread::sleep(Duration::from_millis(millis));
            drop(s.stdin);
            if !sigkill(&mut s.child) {
                return false;
            }
        }
        _ => loop {
            let line = s
                .lines
                .next()
                .expect("the child ended before the kill point")
                .unwrap();
            let words: Vec<&str> = line.split(' ').collect();
            match (words.as_slice(), kill) {
                (["start", n], _) => start = Some(n.parse::<u64>().unwrap()),
                (["step", n], Kill::AfterStep { ahead, micros })
                    if Some(n.parse::<u64>().unwrap()) == start.map(|s| s + ahead) =>
                {
                    if micros > 0 {
                        writeln!(s.stdin).ok();
                        std::thread::sleep(Duration::from_micros(micros));
                    }
                    assert!(sigkill(&mut s.child), "the child was waiting");
                    break;
                }
                (["step", _], _) => {
                    writeln!(s.stdin).ok();
                }
                (["paused", _, n], Kill::InWrite { stage, .. }) => {
                    let start = start.expect("start line");
                    // This process's n-th write is at the n-th multiple of
                    // EVERY after its start.
                    let n: u64 = n.parse().unwrap();
                    let writing = (start / EVERY + n) * EVERY;
                    let on_disk = checkpoint_steps(dir);
                    let temps = temporaries(dir);
                    match stage {
                        WriteStage::Renamed => {
                            assert_eq!(on_disk, Some(writing), "renamed, not yet flushed");
                            assert!(temps.is_empty(), "{temps:?}");
                        }
                        _ => {
                            let previous = (start > 0 || n > 1).then_some(writing - EVERY);
                            assert_eq!(on_disk, previous, "{stage:?}: the previous checkpoint");
                            assert_eq!(temps.len(), 1, "{temps:?}");
                            if stage == WriteStage::HalfWritten {
                                let err = Checkpoint::load(&temps[0]).unwrap_err();
                                assert!(
                                    matches!(err, mithril::Error::Format { .. }),
                                    "half a checkpoint: {err}"
                                );
                            }
                        }
                    }
                    assert!(sigkill(&mut s.child), "the child was paused");
                    break;
                }
                (["done"], _) => panic!("the child finished before {kill:?}"),
                _ => {}
            }
        },
    }
    // Whatever the kill interrupted, the checkpoint on disk loads.
    checkpoint_steps(dir);
    true
}

/// Runs one child to the end; returns how long it took.
fn run_to_end(dir: &Path, graph_mode: bool) -> Duration {
    let start = Instant::now();
    let mut s = spawn(dir, graph_mode, false, "");
    drop(s.stdin);
    let last = s.lines.map(|l| l.unwrap()).last();
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(last.as_deref(), Some("done"));
    start.elapsed()
}

/// Whether the final files in `dir` are, byte for byte, those in `reference`.
fn assert_same_end(reference: &Path, dir: &Path, what: &str) {
    for file in ["final.safetensors", "final-params.safetensors"] {
        let (want, got) = (contents(&reference.join(file)), contents(&dir.join(file)));
        assert_eq!(got.0, want.0, "{what}: {file}: metadata");
        assert_eq!(got.1.len(), want.1.len());
        for (name, bytes) in &want.1 {
            assert!(got.1[name] == *bytes, "{what}: {file}: `{name}` differs");
        }
    }
}

/// Deterministic pseudo-random delays (SplitMix64).
fn delays(seed: u64, n: usize, below: u64) -> Vec<u64> {
    let mut z = seed;
    (0..n)
        .map(|_| {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (x ^ (x >> 31)) % below
        })
        .collect()
}

/// One uninterrupted run, one killed at chosen points and one at random
/// times, resumed after each kill; returns the kills.
fn kill_and_resume(graph_mode: bool) -> usize {
    let mode = if graph_mode { "compiled" } else { "eager" };
    let root = std::env::temp_dir().join(format!("mithril-resume-{}-{mode}", std::process::id()));
    let dirs = [
        root.join("straight"),
        root.join("chosen"),
        root.join("random"),
    ];
    for dir in &dirs {
        std::fs::create_dir_all(dir).unwrap();
    }
    let [straight, chosen, random] = &dirs;
    let duration = run_to_end(straight, graph_mode);

    // Each run resumes from the last checkpoint (every 3 of the 28 steps).
    let scripted = [
        // Before the first checkpoint: the next run starts afresh.
        Kill::AfterStep {
            ahead: 2,
            micros: 0,
        },
        Kill::AfterStep {
            ahead: 4,
            micros: 0,
        },
        Kill::InWrite {
            stage: WriteStage::HalfWritten,
            n: 2,
        },
        Kill::AfterStep {
            ahead: 3,
            micros: 300,
        },
        Kill::InWrite {
            stage: WriteStage::Synced,
            n: 1,
        },
        Kill::AfterStep {
            ahead: 4,
            micros: 1500,
        },
        Kill::InWrite {
            stage: WriteStage::Renamed,
            n: 2,
        },
        // The last checkpoint, at 27 of 28 steps.
        Kill::InWrite {
            stage: WriteStage::HalfWritten,
            n: 3,
        },
    ];
    for kill in scripted {
        assert!(run_and_kill(chosen, graph_mode, kill));
    }
    run_to_end(chosen, graph_mode);
    assert_same_end(
        straight,
        chosen,
        &format!("{mode}, killed at chosen points"),
    );

    // Random times within a third of a whole run's duration, until a run
    // finishes (each resumes where the last checkpoint was).
    let mut random_kills = 0;
    let millis = duration.as_millis() as u64 / 3;
    for delay in delays(42 + u64::from(graph_mode), 12, millis.max(1)) {
        if !run_and_kill(random, graph_mode, Kill::After { millis: delay }) {
            break;
        }
        random_kills += 1;
    }
    run_to_end(random, graph_mode);
    assert_same_end(straight, random, &format!("{mode}, killed at random times"));

    std::fs::remove_dir_all(&root).ok();
    scripted.len() + random_kills
}

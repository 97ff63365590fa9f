//! Data-parallel training across real processes: each test launches ranks of
//! this test binary with `mithril-launch` (what `cargo mithril launch` runs),
//! talking over MLX's ring backend on loopback sockets.
//!
//! A launched rank runs the same test function, which sees
//! `MITHRIL_TEST_RANK_ROLE` and plays its part instead of launching.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mithril::distributed::{Backend, Group};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};
use mithril_launch::{Hostfile, Options, RankEnd, Report};

mithril::model! {
    Net {
        input x: [B, 4];
        x -> Linear(16) -> Tanh -> Linear(1) => y;
        output y;
    }
}

const ROLE: &str = "MITHRIL_TEST_RANK_ROLE";
const OUT: &str = "MITHRIL_TEST_OUT";
const GLOBAL_BATCH: usize = 16;
const STEPS: usize = 6;

/// The tests launch ranks one test at a time: concurrent runs would share
/// the machine's two cores and could be handed the same free ports.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// The rank's role when this process was launched as a rank.
fn role() -> Option<String> {
    std::env::var(ROLE).ok()
}

/// The whole data set: 96 samples of `y = sin(x) . w`.
fn data() -> (Vec<f32>, Vec<f32>) {
    let key = mithril::mlx_rs::random::key(11).unwrap();
    let x = mithril::mlx_rs::random::uniform::<_, f32>(-1.0, 1.0, &[96, 4][..], &key).unwrap();
    let w = Array::from_slice(&[1.0f32, -2.0, 0.5, 3.0], &[4, 1]);
    let y = mithril::mlx_rs::ops::sin(&x).unwrap().matmul(&w).unwrap();
    (x.as_slice::<f32>().to_vec(), y.as_slice::<f32>().to_vec())
}

fn batch(data: &(Vec<f32>, Vec<f32>), rows: &[usize]) -> (NetInputs, Array) {
    let x: Vec<f32> = rows
        .iter()
        .flat_map(|&r| data.0[r * 4..r * 4 + 4].to_vec())
        .collect();
    let y: Vec<f32> = rows.iter().map(|&r| data.1[r]).collect();
    let n = rows.len() as i32;
    (
        NetInputs {
            x: Array::from_slice(&x, &[n, 4]),
        },
        Array::from_slice(&y, &[n, 1]),
    )
}

/// The sample order of the run (the same on every rank).
fn order() -> Vec<usize> {
    (0..96).map(|i| (i * 37) % 96).collect()
}

/// Trains `STEPS` steps on `group`'s share of each global batch.
fn train(group: &Group) -> NetParams {
    let backend = MlxBackend::builder().seed(7).build().unwrap();
    let mut params = Net::init(&backend).unwrap();
    let objective = Objective::new("y", Loss::SquaredError);
    let mut trainer = Trainer::<Net, _>::new(&backend, &objective, Adam::new(1e-2)).unwrap();
    trainer.data_parallel(group);
    let data = data();
    let shards = mithril::distributed::shard(&order(), GLOBAL_BATCH, group.rank(), group.size());
    for rows in shards.iter().take(STEPS) {
        let (inputs, targets) = batch(&data, rows);
        trainer.step(&mut params, &inputs, &targets).unwrap();
    }
    params
}

fn launch(ranks: usize, role: &str, test: &str, env: &[(&str, String)], grace: Duration) -> Report {
    let hosts = Hostfile::from_list("127.0.0.1", ranks).unwrap();
    let mut settings = vec![format!("{ROLE}={role}")];
    settings.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
    let plan =
        mithril_launch::plan(&hosts, mithril_launch::Backend::Ring, None, &settings).unwrap();
    let exe = std::env::current_exe().unwrap().display().to_string();
    let command = [
        exe,
        test.into(),
        "--exact".into(),
        "--nocapture".into(),
        "--test-threads=1".into(),
    ];
    mithril_launch::launch(
        &plan,
        &command,
        &Options {
            grace,
            capture: true,
            ..Options::default()
        },
    )
    .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("mithril-distributed-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bits(params: &NetParams) -> Vec<Vec<u32>> {
    params
        .to_arrays()
        .iter()
        .map(|a| a.as_slice::<f32>().iter().map(|v| v.to_bits()).collect())
        .collect()
}

fn load(path: &Path) -> NetParams {
    mithril::io::load_params::<Net>(path, DType::F32).unwrap()
}

#[test]
fn two_ranks_train_identically_and_like_one_rank_on_both_batches() {
    if role().as_deref() == Some("train") {
        let group = Group::init(Backend::Ring).unwrap();
        assert_eq!(group.size(), 2);
        let params = train(&group);
        let checksum = mithril::distributed::verify_identical(&group, &params).unwrap();
        let out = Path::new(&std::env::var(OUT).unwrap())
            .join(format!("rank{}.safetensors", group.rank()));
        mithril::io::save_params::<Net>(&params, out).unwrap();
        println!("checksum {checksum:016x}");
        return;
    }
    let _serial = one_at_a_time();
    let dir = scratch("train");
    let report = launch(
        2,
        "train",
        "two_ranks_train_identically_and_like_one_rank_on_both_batches",
        &[(OUT, dir.display().to_string())],
        Duration::from_secs(10),
    );
    assert!(
        report.success(),
        "{}\n{}{}",
        report.summary(),
        report.output_of(0),
        report.output_of(1)
    );
    let (rank0, rank1) = (
        load(&dir.join("rank0.safetensors")),
        load(&dir.join("rank1.safetensors")),
    );
    assert_eq!(
        bits(&rank0),
        bits(&rank1),
        "ranks ended with different parameters"
    );
    assert!(report.output_of(0).contains("checksum"));
    assert_eq!(
        report
            .output_of(0)
            .lines()
            .find(|l| l.starts_with("checksum")),
        report
            .output_of(1)
            .lines()
            .find(|l| l.starts_with("checksum"))
    );

    // One process on the global batches: rank 0's rows, then rank 1's.
    let alone = train(&Group::single());
    for (a, b) in alone.to_arrays().iter().zip(rank0.to_arrays()) {
        let (a, b) = (a.as_slice::<f32>(), b.as_slice::<f32>());
        let worst = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-5,
            "one rank on both batches differs from two ranks by {worst}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_killed_rank_makes_the_other_stop_with_an_error() {
    if role().as_deref() == Some("killed") {
        let group = Group::init(Backend::Ring).unwrap();
        let backend = MlxBackend::builder().seed(7).build().unwrap();
        let mut params = Net::init(&backend).unwrap();
        let objective = Objective::new("y", Loss::SquaredError);
        let mut trainer = Trainer::<Net, _>::new(&backend, &objective, Adam::new(1e-2)).unwrap();
        trainer.data_parallel(&group);
        let data = data();
        let rows: Vec<usize> = (group.rank() * 8..group.rank() * 8 + 8).collect();
        let (inputs, targets) = batch(&data, &rows);
        for step in 0.. {
            if group.rank() == 1 && step == 3 {
                // Mid-epoch, without a word: as the OOM killer would.
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            }
            if let Err(e) = trainer.step(&mut params, &inputs, &targets) {
                eprintln!("error: step {step}: {e}");
                std::process::exit(1);
            }
        }
    }
    let _serial = one_at_a_time();
    // The survivor's next collectives fail or never complete: it must stop
    // by itself, with an error, within the time limit (5 s here).
    let started = Instant::now();
    let report = launch(
        2,
        "killed",
        "a_killed_rank_makes_the_other_stop_with_an_error",
        &[("MITHRIL_DISTRIBUTED_TIMEOUT", "5".to_string())],
        Duration::from_secs(60),
    );
    let elapsed = started.elapsed();
    let survivor = report.output_of(0);
    // Which of the two exits the launcher sees first can be a matter of
    // microseconds; what it reports for each rank is what counts.
    assert!(report.first_failure.is_some(), "{}", report.summary());
    assert_eq!(
        report.ends[1],
        RankEnd::Failed("was killed by signal 9 (SIGKILL)".into())
    );
    assert!(
        report
            .summary()
            .contains("rank 1 was killed by signal 9 (SIGKILL)"),
        "{}",
        report.summary()
    );
    assert_eq!(
        report.ends[0],
        RankEnd::Failed("exited with code 1".into()),
        "{survivor}"
    );
    assert!(
        survivor.contains("error: step") || survivor.contains("made no progress for 5 s"),
        "{survivor}"
    );
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
}

#[test]
fn a_peer_that_never_comes_is_an_error_within_the_timeout() {
    if role().as_deref() == Some("alone") {
        let started = Instant::now();
        let err = Group::init(Backend::Ring).unwrap_err().to_string();
        println!("waited {:.1} s: {err}", started.elapsed().as_secs_f32());
        std::process::exit(3);
    }
    let _serial = one_at_a_time();
    // Two ranks planned, only rank 0 started: it waits for rank 1 in vain.
    let hosts = Hostfile::from_list("127.0.0.1", 2).unwrap();
    let settings = [
        format!("{ROLE}=alone"),
        "MITHRIL_DISTRIBUTED_TIMEOUT=2".to_string(),
    ];
    let plan =
        mithril_launch::plan(&hosts, mithril_launch::Backend::Ring, None, &settings).unwrap();
    let exe = std::env::current_exe().unwrap().display().to_string();
    let command = [
        exe,
        "a_peer_that_never_comes_is_an_error_within_the_timeout".into(),
        "--exact".into(),
        "--nocapture".into(),
    ];
    let options = Options {
        capture: true,
        ..Options::default()
    };
    let report = mithril_launch::launch(&plan[..1], &command, &options).unwrap();
    let out = report.output_of(0);
    assert_eq!(
        report.ends[0],
        RankEnd::Failed("exited with code 3".into()),
        "{out}"
    );
    assert!(out.contains("not every process joined within 2 s"), "{out}");
}

#[test]
fn a_port_in_use_fails_the_rendezvous_with_the_reason() {
    if role().as_deref() == Some("port") {
        match Group::init(Backend::Ring) {
            Ok(_) => println!("joined"),
            Err(e) => {
                println!("error: {e}");
                std::process::exit(4);
            }
        }
        return;
    }
    let _serial = one_at_a_time();
    // Something else already listens on rank 0's port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let hosts = Hostfile::from_list("127.0.0.1", 2).unwrap();
    let settings = [
        format!("{ROLE}=port"),
        "MITHRIL_DISTRIBUTED_TIMEOUT=20".to_string(),
    ];
    let plan =
        mithril_launch::plan(&hosts, mithril_launch::Backend::Ring, Some(port), &settings).unwrap();
    let exe = std::env::current_exe().unwrap().display().to_string();
    let command = [
        exe,
        "a_port_in_use_fails_the_rendezvous_with_the_reason".into(),
        "--exact".into(),
        "--nocapture".into(),
    ];
    let options = Options {
        capture: true,
        grace: Duration::from_secs(1),
        ..Options::default()
    };
    let started = Instant::now();
    let report = mithril_launch::launch(&plan, &command, &options).unwrap();
    assert_eq!(
        report.first_failure,
        Some(0),
        "{}\n{}",
        report.summary(),
        report.output_of(0)
    );
    assert!(
        report.output_of(0).contains("bind"),
        "{}",
        report.output_of(0)
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    drop(taken);
}

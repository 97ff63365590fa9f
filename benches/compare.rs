//! The comparison: mithril's DSL (compiled and eager) against the same
//! networks hand-written directly against mlx-rs, and (through
//! `scripts/bench/python_bench.py`) Python MLX and PyTorch, on three f32
//! workloads. Prints one table.
//!
//! ```sh
//! cargo bench --bench compare                 # every workload, Python rows if available
//! cargo bench --bench compare -- W1 W2        # some workloads
//! MITHRIL_BENCH_SECS=4 cargo bench --bench compare   # longer sampling
//! MITHRIL_BENCH_PYTHON=0 cargo bench --bench compare # Rust rows only
//! ```
//!
//! Each variant's iteration is a full training step (forward, cross-entropy,
//! backward, Adam) or an inference forward, followed by `eval` of everything it
//! produced (loss and parameters, or logits), so no lazy work escapes. The
//! variants of a workload run interleaved in rounds (warm-up first), so a
//! change of machine load hits them alike; the table shows the median and the
//! 25th-75th percentiles of the single iterations. See docs/benchmarks.md.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use common::*;
use mithril::mlx_rs::{
    self, Array, error::Exception, ops, optimizers::Optimizer,
    transforms::compile::compile_with_state,
};
use mithril::prelude::*;
use mithril::train::Trainer;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    Train,
    Forward,
}

impl Pass {
    fn name(self) -> &'static str {
        match self {
            Pass::Train => "train step",
            Pass::Forward => "forward",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Pass::Train => "train",
            Pass::Forward => "forward",
        }
    }
}

const DSL_COMPILED: &str = "mithril compiled";
const DSL_EAGER: &str = "mithril eager";
const DSL_CHECKED: &str = "mithril compiled (non-finite check)";
const HAND_COMPILED: &str = "mlx-rs compiled";
const HAND_EAGER: &str = "mlx-rs eager";
const PY_COMPILED: &str = "python mlx compiled";

type Run = Box<dyn FnMut() -> BoxResult<Array>>;

struct Variant {
    pass: Pass,
    name: String,
    run: Run,
    /// The first run's output (loss or logits), for the agreement check.
    first: Option<Array>,
    times: Vec<f64>,
}

impl Variant {
    fn new(pass: Pass, name: &str, run: Run) -> Variant {
        Variant {
            pass,
            name: name.to_string(),
            run,
            first: None,
            times: Vec::new(),
        }
    }
}

/// One line of the table.
#[derive(Clone, Debug)]
struct Row {
    workload: String,
    pass: String,
    variant: String,
    median_ms: f64,
    p25_ms: f64,
    p75_ms: f64,
    n: usize,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

// ---------------------------------------------------------------------------
// The variants of one workload.

fn variants<M: Model, H: HandModel>(
    w: &Workload,
    hands: Vec<(&'static str, H, bool)>,
) -> BoxResult<Vec<Variant>> {
    let (x, y) = w.data(7)?;
    let mut out = Vec::new();

    // mithril: Trainer (compiled or eager per the backend's graph mode) and
    // CompiledModel::evaluate.
    for (name, graph_mode) in [(DSL_COMPILED, true), (DSL_EAGER, false)] {
        let backend = backend(graph_mode)?;
        let mut params = mithril::init::<M>(&backend)?;
        let mut trainer = Trainer::<M, _>::new(&backend, &objective(), adam())?;
        let inputs = dsl_inputs::<M>(&x);
        let labels = y.clone();
        out.push(Variant::new(
            Pass::Train,
            name,
            Box::new(move || {
                let step = trainer.step(&mut params, &inputs, &labels)?;
                let arrays = params.to_arrays();
                eval_all(arrays.iter().chain([&step.loss]))?;
                Ok(step.loss)
            }),
        ));

        let params = mithril::init::<M>(&backend)?;
        let mut model = mithril::compile::<M>(&backend);
        let inputs = dsl_inputs::<M>(&x);
        out.push(Variant::new(
            Pass::Forward,
            name,
            Box::new(move || {
                let outputs = model.evaluate(&params, &inputs)?;
                let logits = outputs.arrays()[0].clone();
                eval_all([&logits])?;
                Ok(logits)
            }),
        ));
    }

    // The compiled step with Trainer::stop_on_non_finite: its finiteness
    // flags (loss, gradients, updated parameters) are computed in the
    // compiled closure and read back with the loss.
    {
        let backend = backend(true)?;
        let mut params = mithril::init::<M>(&backend)?;
        let mut trainer = Trainer::<M, _>::new(&backend, &objective(), adam())?;
        trainer.stop_on_non_finite(true);
        let inputs = dsl_inputs::<M>(&x);
        let labels = y.clone();
        out.push(Variant::new(
            Pass::Train,
            DSL_CHECKED,
            Box::new(move || {
                let step = trainer.step(&mut params, &inputs, &labels)?;
                let arrays = params.to_arrays();
                eval_all(arrays.iter().chain([&step.loss]))?;
                Ok(step.loss)
            }),
        ));
    }

    // Hand-written mlx-rs, starting from the same parameters.
    let init = mithril::init::<M>(&backend(true)?)?;
    for (name, mut hand, eager_too) in hands {
        load_hand::<M, H>(&mut hand, &init)?;
        let modes: &[bool] = if eager_too { &[true, false] } else { &[true] };
        for &compiled_mode in modes {
            let label = match (compiled_mode, name) {
                (true, "") => HAND_COMPILED.to_string(),
                (false, "") => HAND_EAGER.to_string(),
                (true, extra) => format!("{HAND_COMPILED}, {extra}"),
                (false, extra) => format!("{HAND_EAGER}, {extra}"),
            };
            // Train: the first step runs eagerly (it creates Adam's state, as
            // `optimizer.init` would in Python), later ones compiled.
            let mut state = (hand.clone(), adam());
            let args = vec![x.clone(), y.clone()];
            let mut compiled = compile_with_state(hand_step::<H>, None);
            let mut first = true;
            out.push(Variant::new(
                Pass::Train,
                &label,
                Box::new(move || {
                    let mut loss = if first || !compiled_mode {
                        first = false;
                        hand_step(&mut state, &args)?
                    } else {
                        compiled(&mut state, &args[..])?
                    };
                    let loss = loss.remove(0);
                    let arrays = hand_arrays(&state.0);
                    eval_all(arrays.iter().chain([&loss]))?;
                    Ok(loss)
                }),
            ));

            let mut model = hand.clone();
            let input = x.clone();
            let mut compiled_forward = compile_with_state(
                |m: &mut H, x: &Array| -> Result<Array, Exception> { m.forward(x) },
                None,
            );
            out.push(Variant::new(
                Pass::Forward,
                &label,
                Box::new(move || {
                    let logits = if compiled_mode {
                        compiled_forward(&mut model, &input)?
                    } else {
                        model.forward(&input)?
                    };
                    eval_all([&logits])?;
                    Ok(logits)
                }),
            ));
        }
    }
    Ok(out)
}

/// Timing rounds per workload.
const ROUNDS: usize = 8;

/// Warm-up, then interleaved rounds; fills each variant's `times` (seconds).
/// Each round runs every variant's share of iterations (about `secs` of work
/// per variant in all, 16..=2000 iterations), the share preceded by one
/// untimed iteration (coming from another model, caches and worker threads
/// are cold); after each round, `between(round)` (the Python rounds).
fn measure(
    variants: &mut [Variant],
    secs: f64,
    between: &mut dyn FnMut(usize) -> BoxResult<()>,
) -> BoxResult<()> {
    const WARMUP: usize = 3;
    let mut estimate = vec![0.0f64; variants.len()];
    for (v, est) in variants.iter_mut().zip(&mut estimate) {
        for i in 0..WARMUP {
            let start = Instant::now();
            let out = (v.run)()?;
            let t = start.elapsed().as_secs_f64();
            if i == 0 {
                v.first = Some(out);
            }
            *est = t;
        }
    }
    let iters: Vec<usize> = estimate
        .iter()
        .map(|t| ((secs / t.max(1e-6)) as usize).clamp(16, 2000))
        .collect();
    for round in 0..ROUNDS {
        for (v, &n) in variants.iter_mut().zip(&iters) {
            let per_round = n / ROUNDS + usize::from(round < n % ROUNDS);
            (v.run)()?;
            for _ in 0..per_round {
                let start = Instant::now();
                (v.run)()?;
                v.times.push(start.elapsed().as_secs_f64());
            }
        }
        between(round)?;
    }
    Ok(())
}

/// Max |a - b| of two arrays of the same shape.
fn max_diff(a: &Array, b: &Array) -> Result<f32, Exception> {
    let d = a.subtract(b)?.abs()?.max(None)?;
    Ok(d.item_exact::<f32>())
}

/// Checks that every variant of a pass agrees with the first (`mithril
/// compiled`) on its first output (same initial parameters and data): the same loss after one
/// step, the same logits. Returns the worst difference per pass.
fn agreement(variants: &[Variant]) -> BoxResult<Vec<(Pass, f32)>> {
    let mut worst = Vec::new();
    for pass in [Pass::Train, Pass::Forward] {
        let Some(reference) = variants
            .iter()
            .find(|v| v.pass == pass)
            .and_then(|v| v.first.as_ref())
        else {
            continue;
        };
        let mut w = 0.0f32;
        for v in variants.iter().filter(|v| v.pass == pass) {
            let d = max_diff(reference, v.first.as_ref().ok_or("not run")?)?;
            if d > 1e-3 {
                return Err(format!(
                    "{} {}: `{}` differs from `{DSL_COMPILED}` by {d}",
                    pass.name(),
                    "output",
                    v.name
                )
                .into());
            }
            w = w.max(d);
        }
        worst.push((pass, w));
    }
    Ok(worst)
}

// ---------------------------------------------------------------------------
// Roofline: MLX f32 matmul.

fn matmul_gflops(n: i32, iters: usize) -> Result<f64, Exception> {
    let key = mlx_rs::random::key(1)?;
    let (ka, kb) = mlx_rs::random::split(&key, 2)?;
    let a = mlx_rs::random::normal::<f32>(&[n, n][..], None, None, &ka)?;
    let b = mlx_rs::random::normal::<f32>(&[n, n][..], None, None, &kb)?;
    mlx_rs::transforms::eval([&a, &b])?;
    for _ in 0..2 {
        ops::matmul(&a, &b)?.eval()?;
    }
    let mut times = Vec::new();
    for _ in 0..iters {
        let start = Instant::now();
        ops::matmul(&a, &b)?.eval()?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(2.0 * f64::from(n).powi(3) / percentile(&times, 0.5) / 1e9)
}

// ---------------------------------------------------------------------------
// Python rows.

fn python_interpreter() -> Option<String> {
    match std::env::var("MITHRIL_BENCH_PYTHON") {
        Ok(v) if v == "0" || v.is_empty() => None,
        Ok(v) => Some(v),
        Err(_) => {
            let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/build/bench-venv/bin/python");
            Some(if std::path::Path::new(venv).exists() {
                venv.to_string()
            } else {
                "python3".to_string()
            })
        }
    }
}

/// `scripts/bench/python_bench.py --serve`: Python MLX and PyTorch timing
/// rounds on request, run between compare.rs's own rounds so that both sides
/// see the same machine.
struct PythonServer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Times per (workload, pass, variant), seconds.
    times: Vec<((String, String, String), Vec<f64>)>,
}

impl PythonServer {
    /// `skip`: `--no-torch` (the Python MLX process) or `--no-mlx` (PyTorch).
    fn start(python: &str, skip: &str) -> Option<PythonServer> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/bench/python_bench.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg("--serve")
            .arg(skip)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| eprintln!("python rows skipped: cannot run {python}: {e}"))
            .ok()?;
        let stdin = child.stdin.take()?;
        let mut stdout = BufReader::new(child.stdout.take()?);
        let mut line = String::new();
        if stdout.read_line(&mut line).ok()? == 0 || line.trim() != "READY" {
            eprintln!(
                "python rows skipped: {script} did not start ({:?})",
                line.trim()
            );
            let _ = child.wait();
            return None;
        }
        Some(PythonServer {
            child,
            stdin,
            stdout,
            times: Vec::new(),
        })
    }

    fn command(&mut self, command: &str) -> BoxResult<()> {
        writeln!(self.stdin, "{command}")?;
        self.stdin.flush()?;
        loop {
            let mut line = String::new();
            if self.stdout.read_line(&mut line)? == 0 {
                return Err("python_bench.py --serve exited".into());
            }
            let f: Vec<&str> = line.trim_end().split('\t').collect();
            match f.as_slice() {
                ["DONE"] => return Ok(()),
                ["TIMES", workload, pass, variant, times] => {
                    let key = (workload.to_string(), pass.to_string(), variant.to_string());
                    let parsed = times.split(',').filter_map(|t| t.parse::<f64>().ok());
                    match self.times.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, v)) => v.extend(parsed),
                        None => self.times.push((key, parsed.collect())),
                    }
                }
                _ => eprintln!("python: {}", line.trim_end()),
            }
        }
    }

    fn round(&mut self, workload: &str, secs: f64, round: usize) -> BoxResult<()> {
        self.command(&format!("round {workload} {secs} {ROUNDS} {round}"))
    }

    /// The rows of `workload`, and frees its models.
    fn finish(&mut self, workload: &str) -> BoxResult<Vec<Row>> {
        self.command(&format!("drop {workload}"))?;
        let mut rows = Vec::new();
        for ((w, pass, variant), times) in
            self.times.iter_mut().filter(|((w, _, _), _)| w == workload)
        {
            times.sort_by(f64::total_cmp);
            rows.push(Row {
                workload: w.clone(),
                pass: pass.clone(),
                variant: variant.clone(),
                median_ms: percentile(times, 0.5) * 1e3,
                p25_ms: percentile(times, 0.25) * 1e3,
                p75_ms: percentile(times, 0.75) * 1e3,
                n: times.len(),
            });
        }
        Ok(rows)
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// The machine.

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".to_string())
}

fn blas() -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut libs: Vec<String> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| p.contains("blas"))
        .map(|p| {
            std::fs::canonicalize(p)
                .map(|c| c.display().to_string())
                .unwrap_or_else(|_| p.to_string())
        })
        .collect();
    libs.sort();
    libs.dedup();
    if libs.iter().any(|p| p.contains("openblas")) {
        "OpenBLAS (".to_string() + &libs.join(", ") + ")"
    } else if libs.is_empty() {
        "none mapped (Accelerate on macOS?)".to_string()
    } else {
        libs.join(", ")
    }
}

fn mlx_version() -> String {
    let info = mithril::runtime_info();
    format!(
        "MLX {} ({} build, through mlx-rs 0.33.0)",
        info.mlx_version, info.build
    )
}

// ---------------------------------------------------------------------------
// `--breakdown`: where a DSL train step's time goes besides MLX's work.

/// Median microseconds of `f` over `n` calls (after 20 warm-up calls).
fn micros(n: usize, mut f: impl FnMut() -> BoxResult<()>) -> BoxResult<f64> {
    for _ in 0..20 {
        f()?;
    }
    let mut t = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        f()?;
        t.push(start.elapsed().as_secs_f64() * 1e6);
    }
    t.sort_by(f64::total_cmp);
    Ok(percentile(&t, 0.5))
}

/// The pieces of `Trainer::step` that are not the compiled call, timed
/// alone on the workload's real parameters and inputs, next to the whole
/// step of `mithril compiled` and `mlx-rs compiled`.
fn breakdown_of<M: Model, H: HandModel>(w: &Workload, hand: H, secs: f64) -> BoxResult<()> {
    let hand_for_state = hand.clone();
    let mut vs: Vec<Variant> = variants::<M, H>(w, vec![("", hand, false)])?
        .into_iter()
        .filter(|v| v.pass == Pass::Train)
        .collect();
    // The hand-written step plus what Trainer::step did before it skipped
    // the key for dropout-free graphs: a split per step, the sub-key passed
    // in as an (unused) argument.
    {
        let mut hand = hand_for_state.clone();
        load_hand::<M, H>(&mut hand, &mithril::init::<M>(&backend(true)?)?)?;
        let mut state = (hand, adam());
        let (x, y) = w.data(7)?;
        let mut key = mlx_rs::random::key(3)?;
        let mut compiled = compile_with_state(hand_step::<H>, None);
        let mut first = true;
        vs.push(Variant::new(
            Pass::Train,
            "mlx-rs compiled + key split",
            Box::new(move || {
                let (next, sub) = mlx_rs::random::split(&key, 2)?;
                key = next;
                let args = [x.clone(), y.clone(), sub];
                let mut loss = if first {
                    first = false;
                    hand_step(&mut state, &args)?
                } else {
                    compiled(&mut state, &args[..])?
                };
                let loss = loss.remove(0);
                eval_all(hand_arrays(&state.0).iter().chain([&loss]))?;
                Ok(loss)
            }),
        ));
    }
    measure(&mut vs, secs, &mut |_| Ok(()))?;
    let backend = backend(true)?;
    let params = mithril::init::<M>(&backend)?;
    let (x, _) = w.data(7)?;
    let inputs = dsl_inputs::<M>(&x);
    let n = 2000;

    let to_arrays = micros(n, || {
        std::hint::black_box(params.to_arrays());
        Ok(())
    })?;
    // Trainer::check: every shape into a Vec<Vec<i32>>, compared with the last.
    let arrays = params.to_arrays();
    let shapes_of = |arrays: &[Array], inputs: &[&Array]| -> Vec<Vec<i32>> {
        arrays
            .iter()
            .chain(inputs.iter().copied())
            .map(|a| a.shape().to_vec())
            .collect()
    };
    let last = shapes_of(&arrays, &inputs.arrays());
    let check = micros(n, || {
        let shapes = shapes_of(&arrays, &inputs.arrays());
        std::hint::black_box(shapes == last);
        Ok(())
    })?;
    // Trainer::step_key: a split per step, evaluated with the step.
    let mut key = mlx_rs::random::key(1)?;
    let split = micros(n, || {
        let (next, sub) = mlx_rs::random::split(&key, 2)?;
        key = next;
        eval_all([&sub])?;
        Ok(())
    })?;
    // The typed parameters rebuilt from the state after the step.
    let from_arrays = micros(n, || {
        let p =
            <M::Params as Params>::from_arrays(&mut arrays.clone().into_iter()).ok_or("count")?;
        std::hint::black_box(p);
        Ok(())
    })?;
    // An eval of arrays that are already evaluated (the bench's own eval).
    let eval_again = micros(n, || {
        eval_all(arrays.iter())?;
        Ok(())
    })?;

    // mlx-rs's compile_with_state bookkeeping: every call projects the
    // state (keys as strings) about five times: layouts, snapshots, restore.
    let mut hand_state = (hand_for_state, adam());
    let args = vec![x.clone(), w.data(7)?.1];
    hand_step(&mut hand_state, &args)?;
    eval_all(hand_arrays(&hand_state.0).iter())?;
    let mut dsl_state = (params.to_arrays(), adam());
    {
        let graph = mithril::runtime::graph_of::<M>();
        let keys: Vec<std::rc::Rc<str>> = graph
            .weights
            .iter()
            .map(|w| std::rc::Rc::from(w.path.as_str()))
            .collect();
        let (weights, optimizer) = &mut dsl_state;
        for (k, wt) in keys.iter().zip(weights.iter_mut()) {
            let g = mlx_rs::ops::zeros_like(&*wt)?;
            optimizer.update_single(k, &g, wt)?;
        }
        eval_all(weights.iter())?;
    }
    let project = |state: &mut dyn FnMut() -> BoxResult<()>| micros(n, state);
    let dsl_projection = project(&mut || {
        let mut p = mlx_rs::utils::Updatable::state_projection(&mut dsl_state)?;
        std::hint::black_box((p.layout(), p.snapshot()));
        let _ = &mut p;
        Ok(())
    })?;
    let hand_projection = project(&mut || {
        let p = mlx_rs::utils::Updatable::state_projection(&mut hand_state)?;
        std::hint::black_box((p.layout(), p.snapshot()));
        Ok(())
    })?;
    // The hand-written compiled step, host side (the call returns lazy
    // arrays) and eval apart.
    let mut compiled = compile_with_state(hand_step::<H>, None);
    let (mut call, mut evaluation) = (Vec::new(), Vec::new());
    for i in 0..(n / 4).max(50) {
        let start = Instant::now();
        let loss = compiled(&mut hand_state, &args[..])?;
        let mid = Instant::now();
        eval_all(hand_arrays(&hand_state.0).iter().chain(&loss))?;
        if i >= 10 {
            call.push((mid - start).as_secs_f64() * 1e6);
            evaluation.push(mid.elapsed().as_secs_f64() * 1e6);
        }
    }
    call.sort_by(f64::total_cmp);
    evaluation.sort_by(f64::total_cmp);

    println!("{} {}: train step medians", w.id, w.description());
    for v in &mut vs {
        v.times.sort_by(f64::total_cmp);
        println!(
            "  {:<28} {:>10.1} us",
            v.name,
            percentile(&v.times, 0.5) * 1e6
        );
    }
    println!(
        "  pieces of Trainer::step outside the compiled call ({} weights):",
        arrays.len()
    );
    println!("    params.to_arrays()            {to_arrays:>8.2} us");
    println!("    shape check (Vec<Vec<i32>>)   {check:>8.2} us");
    println!("    random::split + eval of key   {split:>8.2} us");
    println!("    Params::from_arrays(clone)    {from_arrays:>8.2} us");
    println!("    eval of evaluated arrays      {eval_again:>8.2} us");
    println!("  compile_with_state bookkeeping, one state projection with layout and snapshot:");
    println!("    (Vec<Array>, Adam), mithril   {dsl_projection:>8.2} us");
    println!("    (module, Adam), mlx-rs        {hand_projection:>8.2} us");
    println!(
        "  mlx-rs compiled step split: call (host, lazy) {:.1} us, eval {:.1} us",
        percentile(&call, 0.5),
        percentile(&evaluation, 0.5)
    );
    Ok(())
}

// ---------------------------------------------------------------------------

fn main() -> BoxResult<()> {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .map(|a| a.to_uppercase())
        .collect();
    let secs: f64 = std::env::var("MITHRIL_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    // MITHRIL_BENCH_BATCH overrides every workload's batch (e.g. 1, to
    // expose per-step fixed costs); the Python rows keep theirs.
    let batch: Option<i32> = std::env::var("MITHRIL_BENCH_BATCH")
        .ok()
        .and_then(|s| s.parse().ok());
    let workloads: Vec<Workload> = [w1(), w2(), w3()]
        .into_iter()
        .filter(|w| filter.is_empty() || filter.iter().any(|f| f == w.id))
        .map(|mut w| {
            w.batch = batch.unwrap_or(w.batch);
            w
        })
        .collect();

    if std::env::args().any(|a| a == "--breakdown") {
        for w in &workloads {
            match w.id {
                "W1" => breakdown_of::<Mlp, _>(w, HandMlp::new()?, secs)?,
                "W2" => breakdown_of::<Cnn, _>(w, HandCnn::new(Pool::Reshape)?, secs)?,
                "W3" => breakdown_of::<DeepMlp, _>(w, HandDeep::new()?, secs)?,
                _ => unreachable!(),
            }
        }
        return Ok(());
    }

    let load_before = load_average();
    let started = Instant::now();
    // Roofline first (the BLAS is also loaded by then, for the listing).
    let roof_1024 = matmul_gflops(1024, 20)?;
    let roof_2048 = matmul_gflops(2048, 6)?;
    let roofline = roof_1024.max(roof_2048);

    // Python MLX and PyTorch in two processes: PyTorch's OpenMP threads and
    // its own BLAS stay out of the MLX process.
    let mut python: Vec<PythonServer> = match python_interpreter() {
        Some(p) => {
            eprintln!("starting the Python rows' servers with {p} ...");
            ["--no-torch", "--no-mlx"]
                .into_iter()
                .filter_map(|skip| PythonServer::start(&p, skip))
                .collect()
        }
        None => Vec::new(),
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut checks = Vec::new();
    let mut rust_secs = 0.0;
    for w in &workloads {
        let rust_started = Instant::now();
        eprintln!("measuring {} ({}) ...", w.id, w.description());
        let mut vs = match w.id {
            "W1" => variants::<Mlp, _>(w, vec![("", HandMlp::new()?, true)])?,
            "W2" => variants::<Cnn, _>(
                w,
                vec![
                    ("", HandCnn::new(Pool::Reshape)?, true),
                    (
                        "transposed pool",
                        HandCnn::new(Pool::ReshapeTranspose)?,
                        false,
                    ),
                    ("nn::MaxPool2d", HandCnn::new(Pool::NnMaxPool2d)?, false),
                ],
            )?,
            "W3" => variants::<DeepMlp, _>(w, vec![("", HandDeep::new()?, true)])?,
            _ => unreachable!(),
        };
        // MITHRIL_BENCH_VARIANTS: only variants whose name is in this
        // comma-separated list (for experiments; the check then compares
        // what is left).
        if let Ok(only) = std::env::var("MITHRIL_BENCH_VARIANTS") {
            let only: Vec<&str> = only.split(',').map(str::trim).collect();
            vs.retain(|v| only.contains(&v.name.as_str()));
        }
        let id = w.id;
        let mut python_secs = 0.0;
        // A pause at every hand-over between processes: OpenBLAS's worker
        // threads busy-wait for a while (up to about 0.1 s) after their last
        // call and would take a core from the next process.
        let settle = std::time::Duration::from_millis(
            std::env::var("MITHRIL_BENCH_SETTLE_MS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(200),
        );
        let mut between = |round: usize| -> BoxResult<()> {
            for server in python.iter_mut() {
                let start = Instant::now();
                std::thread::sleep(settle);
                server.round(id, secs, round)?;
                python_secs += start.elapsed().as_secs_f64();
            }
            if !python.is_empty() {
                std::thread::sleep(settle);
            }
            Ok(())
        };
        measure(&mut vs, secs, &mut between)?;
        checks.push((w.id, agreement(&vs)?));
        // MITHRIL_BENCH_DUMP=FILE: every single time (ms), as CSV lines
        // `workload,pass,"variant",ms` (appended; scripts/bench/pool_runs.py
        // summarises several runs).
        if let Ok(path) = std::env::var("MITHRIL_BENCH_DUMP") {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            for v in &vs {
                for t in &v.times {
                    writeln!(f, "{},{},\"{}\",{:.4}", w.id, v.pass.key(), v.name, t * 1e3)?;
                }
            }
            for server in &python {
                for ((wid, pass, name), times) in &server.times {
                    if wid == w.id {
                        for t in times {
                            writeln!(f, "{wid},{pass},\"{name}\",{:.4}", t * 1e3)?;
                        }
                    }
                }
            }
        }
        for pass in [Pass::Train, Pass::Forward] {
            for v in vs.iter_mut().filter(|v| v.pass == pass) {
                v.times.sort_by(f64::total_cmp);
                rows.push(Row {
                    workload: w.id.to_string(),
                    pass: pass.key().to_string(),
                    variant: v.name.clone(),
                    median_ms: percentile(&v.times, 0.5) * 1e3,
                    p25_ms: percentile(&v.times, 0.25) * 1e3,
                    p75_ms: percentile(&v.times, 0.75) * 1e3,
                    n: v.times.len(),
                });
            }
        }
        drop(vs);
        rust_secs += rust_started.elapsed().as_secs_f64() - python_secs;
        for server in python.iter_mut() {
            rows.extend(server.finish(w.id)?);
        }
    }
    drop(python);
    let total_secs = started.elapsed().as_secs_f64();
    let load_after = load_average();

    // The table.
    println!("# mithril vs hand-written mlx-rs vs Python (f32, median of single iterations)");
    println!();
    println!(
        "machine: {} cores, {}; {}; BLAS: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        mlx_version(),
        blas()
    );
    println!(
        "roofline (MLX f32 matmul, median): 1024^3 {roof_1024:.1} GFLOP/s, 2048^3 {roof_2048:.1} GFLOP/s"
    );
    println!(
        "load average before: {load_before}; after: {load_after}; {total_secs:.0} s in all ({rust_secs:.0} s Rust); sampling {secs} s per variant"
    );
    for (id, worst) in &checks {
        let parts: Vec<String> = worst
            .iter()
            .map(|(p, d)| format!("{} max |diff| {d:.1e}", p.name()))
            .collect();
        println!(
            "check {id}: every Rust variant agrees with `{DSL_COMPILED}` ({})",
            parts.join(", ")
        );
    }
    println!();
    println!(
        "| workload | pass | variant | median ms | p25-p75 ms | n | vs mlx-rs | vs py-mlx | GFLOP/s | % roofline |"
    );
    println!("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for w in &workloads {
        let (fwd_flops, train_flops) = flops(&w.layers, w.batch as u64);
        for pass in ["train", "forward"] {
            let find = |name: &str| {
                rows.iter()
                    .find(|r| r.workload == w.id && r.pass == pass && r.variant == name)
                    .map(|r| r.median_ms)
            };
            let base = find(HAND_COMPILED);
            let py = find(PY_COMPILED);
            let flop = if pass == "train" {
                train_flops
            } else {
                fwd_flops
            };
            for r in rows.iter().filter(|r| r.workload == w.id && r.pass == pass) {
                let ratio = |b: Option<f64>| {
                    b.map_or("-".to_string(), |b| format!("{:.2}", r.median_ms / b))
                };
                let gflops = flop / (r.median_ms / 1e3) / 1e9;
                println!(
                    "| {} {} | {} | {} | {:.3} | {:.3}-{:.3} | {} | {} | {} | {:.1} | {:.0}% |",
                    w.id,
                    w.description(),
                    if pass == "train" {
                        "train step"
                    } else {
                        "forward"
                    },
                    r.variant,
                    r.median_ms,
                    r.p25_ms,
                    r.p75_ms,
                    r.n,
                    ratio(base),
                    ratio(py),
                    gflops,
                    100.0 * gflops / roofline
                );
            }
        }
    }
    println!();
    println!("FLOPs per iteration (matmuls and convolutions; train = 3 x forward - first layer):");
    for w in &workloads {
        let (f, t) = flops(&w.layers, w.batch as u64);
        println!(
            "  {}: forward {:.2} MFLOP, train step {:.2} MFLOP",
            w.id,
            f / 1e6,
            t / 1e6
        );
    }
    println!(
        "vs mlx-rs: median / median of `{HAND_COMPILED}` (hand-written, compile_with_state); vs py-mlx: / `{PY_COMPILED}`."
    );
    Ok(())
}

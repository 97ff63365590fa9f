//! Issue 8's comparison: mithril's DSL (compiled and eager) against the same
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

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::*;
use mithril::mlx_rs::{self, Array, error::Exception, ops, transforms::compile::compile_with_state};
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

/// Warm-up, then interleaved rounds; fills each variant's `times` (seconds).
fn measure(variants: &mut [Variant], secs: f64) -> BoxResult<()> {
    const WARMUP: usize = 3;
    const ROUNDS: usize = 8;
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
    // Iterations per variant: about `secs` of work, 16..=2000.
    let iters: Vec<usize> = estimate
        .iter()
        .map(|t| ((secs / t.max(1e-6)) as usize).clamp(16, 2000))
        .collect();
    for round in 0..ROUNDS {
        for (v, &n) in variants.iter_mut().zip(&iters) {
            let per_round = n / ROUNDS + usize::from(round < n % ROUNDS);
            for _ in 0..per_round {
                let start = Instant::now();
                (v.run)()?;
                v.times.push(start.elapsed().as_secs_f64());
            }
        }
    }
    Ok(())
}

/// Max |a - b| of two arrays of the same shape.
fn max_diff(a: &Array, b: &Array) -> Result<f32, Exception> {
    let d = a.subtract(b)?.abs()?.max(None)?;
    Ok(d.item_exact::<f32>())
}

/// Checks that every variant of a pass agrees with `mithril compiled` on its
/// first output (same initial parameters and data): the same loss after one
/// step, the same logits. Returns the worst difference per pass.
fn agreement(variants: &[Variant]) -> BoxResult<Vec<(Pass, f32)>> {
    let mut worst = Vec::new();
    for pass in [Pass::Train, Pass::Forward] {
        let reference = variants
            .iter()
            .find(|v| v.pass == pass && v.name == DSL_COMPILED)
            .and_then(|v| v.first.as_ref())
            .ok_or("no reference variant")?;
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

/// Runs `scripts/bench/python_bench.py --rows` and parses its `ROW` lines.
fn python_rows(python: &str, workloads: &[&str], secs: f64) -> Vec<Row> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/bench/python_bench.py");
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .arg("--rows")
        .arg("--secs")
        .arg(secs.to_string())
        .arg("--workloads")
        .arg(workloads.join(","))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("python rows skipped: cannot run {python}: {e}");
            return Vec::new();
        }
    };
    let mut rows = Vec::new();
    let stdout = child.stdout.take().expect("piped");
    for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() == 8 && f[0] == "ROW" {
            let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
            rows.push(Row {
                workload: f[1].to_string(),
                pass: f[2].to_string(),
                variant: f[3].to_string(),
                median_ms: num(f[4]),
                p25_ms: num(f[5]),
                p75_ms: num(f[6]),
                n: f[7].parse().unwrap_or(0),
            });
        } else {
            eprintln!("python: {line}");
        }
    }
    match child.wait() {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("python rows: {script} exited with {s}"),
        Err(e) => eprintln!("python rows: {e}"),
    }
    rows
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

fn mlx_version() -> &'static str {
    match option_env!("MITHRIL_MLX_WHEEL") {
        Some(p) if p.contains("0.32.2") => "MLX 0.32.2 (PyPI wheel mlx-cpu, via mlx-rs 0.33.0 / mlx-sys 0.7.0)",
        _ => "MLX as built by mlx-sys 0.7.0 (mlx-rs 0.33.0)",
    }
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
    let mut vs: Vec<Variant> = variants::<M, H>(w, vec![("", hand, false)])?
        .into_iter()
        .filter(|v| v.pass == Pass::Train)
        .collect();
    measure(&mut vs, secs)?;
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
        let p = <M::Params as Params>::from_arrays(&mut arrays.clone().into_iter()).ok_or("count")?;
        std::hint::black_box(p);
        Ok(())
    })?;
    // An eval of arrays that are already evaluated (the bench's own eval).
    let eval_again = micros(n, || {
        eval_all(arrays.iter())?;
        Ok(())
    })?;

    println!("{} {}: train step medians", w.id, w.description());
    for v in &mut vs {
        v.times.sort_by(f64::total_cmp);
        println!("  {:<28} {:>10.1} us", v.name, percentile(&v.times, 0.5) * 1e6);
    }
    println!("  pieces of Trainer::step outside the compiled call ({} weights):", arrays.len());
    println!("    params.to_arrays()            {to_arrays:>8.2} us");
    println!("    shape check (Vec<Vec<i32>>)   {check:>8.2} us");
    println!("    random::split + eval of key   {split:>8.2} us");
    println!("    Params::from_arrays(clone)    {from_arrays:>8.2} us");
    println!("    eval of evaluated arrays      {eval_again:>8.2} us");
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
                "W2" => breakdown_of::<Cnn, _>(w, HandCnn::new(false)?, secs)?,
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

    let mut rows: Vec<Row> = Vec::new();
    let mut checks = Vec::new();
    for w in &workloads {
        eprintln!("measuring {} ({}) ...", w.id, w.description());
        let mut vs = match w.id {
            "W1" => variants::<Mlp, _>(w, vec![("", HandMlp::new()?, true)])?,
            "W2" => variants::<Cnn, _>(
                w,
                vec![("", HandCnn::new(false)?, true), ("nn::MaxPool2d", HandCnn::new(true)?, false)],
            )?,
            "W3" => variants::<DeepMlp, _>(w, vec![("", HandDeep::new()?, true)])?,
            _ => unreachable!(),
        };
        measure(&mut vs, secs)?;
        checks.push((w.id, agreement(&vs)?));
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
    }
    let rust_secs = started.elapsed().as_secs_f64();

    if let Some(python) = python_interpreter() {
        eprintln!("measuring Python rows with {python} ...");
        let ids: Vec<&str> = workloads.iter().map(|w| w.id).collect();
        rows.extend(python_rows(&python, &ids, secs));
    }
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
        "load average before: {load_before}; after: {load_after}; Rust rows took {rust_secs:.0} s; sampling {secs} s per variant"
    );
    for (id, worst) in &checks {
        let parts: Vec<String> = worst
            .iter()
            .map(|(p, d)| format!("{} max |diff| {d:.1e}", p.name()))
            .collect();
        println!("check {id}: every Rust variant agrees with `{DSL_COMPILED}` ({})", parts.join(", "));
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
            let flop = if pass == "train" { train_flops } else { fwd_flops };
            for r in rows.iter().filter(|r| r.workload == w.id && r.pass == pass) {
                let ratio = |b: Option<f64>| b.map_or("-".to_string(), |b| format!("{:.2}", r.median_ms / b));
                let gflops = flop / (r.median_ms / 1e3) / 1e9;
                println!(
                    "| {} {} | {} | {} | {:.3} | {:.3}-{:.3} | {} | {} | {} | {:.1} | {:.0}% |",
                    w.id,
                    w.description(),
                    if pass == "train" { "train step" } else { "forward" },
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
        println!("  {}: forward {:.2} MFLOP, train step {:.2} MFLOP", w.id, f / 1e6, t / 1e6);
    }
    println!("vs mlx-rs: median / median of `{HAND_COMPILED}` (hand-written, compile_with_state); vs py-mlx: / `{PY_COMPILED}`.");
    Ok(())
}

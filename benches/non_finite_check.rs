//! What `Trainer::stop_on_non_finite` costs per compiled training step, on
//! the three comparison workloads (docs/reliability.md).
//!
//! ```sh
//! cargo bench --bench non_finite_check           # all three workloads
//! cargo bench --bench non_finite_check -- W1     # some
//! ```
//!
//! The difference is small beside the step, and on a shared machine the
//! load drifts more than that between two timing runs; so the two trainers
//! (same parameters, same batch) take steps in pairs, alternately first,
//! and the figure is the median of the pairs' differences with its
//! quartiles. Each step is followed by an `eval` of the parameters and the
//! loss, so no lazy work escapes.

mod common;

use std::time::Instant;

use common::*;
use mithril::prelude::*;
use mithril::train::Trainer;

/// Pairs of steps per workload: about 5 s of steps each on a 2-core CPU.
fn pairs_for(id: &str) -> usize {
    match id {
        "W1" => 3000,
        "W2" => 300,
        _ => 40,
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn measure<M: Model>(w: &Workload) -> BoxResult<()> {
    let (x, y) = w.data(7)?;
    let backend = backend(true)?;
    let inputs = dsl_inputs::<M>(&x);
    let mut plain_params = mithril::init::<M>(&backend)?;
    let mut checked_params = plain_params.clone();
    let mut plain = Trainer::<M, _>::new(&backend, &objective(), adam())?;
    let mut checked = Trainer::<M, _>::new(&backend, &objective(), adam())?;
    checked.stop_on_non_finite(true);
    let step = |trainer: &mut Trainer<M, _>, params: &mut M::Params| -> BoxResult<f64> {
        let start = Instant::now();
        let out = trainer.step(params, &inputs, &y)?;
        let arrays = params.to_arrays();
        eval_all(arrays.iter().chain([&out.loss]))?;
        Ok(start.elapsed().as_secs_f64() * 1e3)
    };
    // Warm-up: the eager first step, the trace, caches.
    for _ in 0..5 {
        step(&mut plain, &mut plain_params)?;
        step(&mut checked, &mut checked_params)?;
    }
    let n = pairs_for(w.id);
    let (mut plain_ms, mut checked_ms, mut diffs) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let (a, b) = if i % 2 == 0 {
            let a = step(&mut plain, &mut plain_params)?;
            (a, step(&mut checked, &mut checked_params)?)
        } else {
            let b = step(&mut checked, &mut checked_params)?;
            (step(&mut plain, &mut plain_params)?, b)
        };
        plain_ms.push(a);
        checked_ms.push(b);
        diffs.push(b - a);
    }
    for v in [&mut plain_ms, &mut checked_ms, &mut diffs] {
        v.sort_by(f64::total_cmp);
    }
    let (base, extra) = (percentile(&plain_ms, 0.5), percentile(&diffs, 0.5));
    println!(
        "| {} {}, batch {} | {:.3} | {:.3} | {extra:+.3} ({:.3} to {:.3}) | {:+.1}% | {n} |",
        w.id,
        w.network,
        w.batch,
        base,
        percentile(&checked_ms, 0.5),
        percentile(&diffs, 0.25),
        percentile(&diffs, 0.75),
        100.0 * extra / base
    );
    Ok(())
}

fn main() -> BoxResult<()> {
    let chosen: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a.starts_with('W'))
        .collect();
    let wanted = |id: &str| chosen.is_empty() || chosen.iter().any(|c| c == id);
    println!(
        "| workload | step ms | with the check ms | median pair difference ms (p25 to p75) | cost | pairs |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    if wanted("W1") {
        measure::<Mlp>(&w1())?;
    }
    if wanted("W2") {
        measure::<Cnn>(&w2())?;
    }
    if wanted("W3") {
        measure::<DeepMlp>(&w3())?;
    }
    Ok(())
}

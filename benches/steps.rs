//! Criterion benches of mithril's compiled steps (graph mode) on the comparison
//! workloads: a training step (forward, cross-entropy, backward, Adam), the
//! same step with `Trainer::stop_on_non_finite`, and an inference forward,
//! each followed by an `eval` of what it produced, next to the same networks
//! hand-written against mlx-rs (compile_with_state).
//!
//! ```sh
//! cargo bench --bench steps               # all
//! cargo bench --bench steps -- W1/        # one workload (criterion's filter)
//! ```
//!
//! The one-table comparison with eager runs and Python is `--bench compare`.

mod common;

use std::time::Duration;

use common::*;
use criterion::{Criterion, criterion_group, criterion_main};
use mithril::mlx_rs::{Array, error::Exception, transforms::compile::compile_with_state};
use mithril::prelude::*;
use mithril::train::Trainer;

fn bench_workload<M: Model, H: HandModel>(c: &mut Criterion, w: &Workload, mut hand: H) {
    let (x, y) = w.data(7).expect("data");
    let backend = backend(true).expect("backend");
    let mut group = c.benchmark_group(w.id);
    if w.id == "W3" {
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(10));
    }

    // mithril compiled: Trainer::step and CompiledModel::evaluate.
    let mut params = mithril::init::<M>(&backend).expect("init");
    load_hand::<M, H>(&mut hand, &params).expect("same parameters");
    let mut trainer = Trainer::<M, _>::new(&backend, &objective(), adam()).expect("trainer");
    let inputs = dsl_inputs::<M>(&x);
    group.bench_function("train/mithril compiled", |b| {
        b.iter(|| {
            let step = trainer.step(&mut params, &inputs, &y).expect("step");
            let arrays = params.to_arrays();
            eval_all(arrays.iter().chain([&step.loss])).expect("eval");
        })
    });
    // The same step with the non-finite check (Trainer::stop_on_non_finite):
    // one finiteness flag per loss, gradient and updated parameter, computed
    // in the compiled step and read back with the loss.
    let mut checked_params = mithril::init::<M>(&backend).expect("init");
    let mut checked = Trainer::<M, _>::new(&backend, &objective(), adam()).expect("trainer");
    checked.stop_on_non_finite(true);
    group.bench_function("train/mithril compiled (non-finite check)", |b| {
        b.iter(|| {
            let step = checked
                .step(&mut checked_params, &inputs, &y)
                .expect("step");
            let arrays = checked_params.to_arrays();
            eval_all(arrays.iter().chain([&step.loss])).expect("eval");
        })
    });
    let mut model = mithril::compile::<M>(&backend);
    group.bench_function("forward/mithril compiled", |b| {
        b.iter(|| {
            let out = model.evaluate(&params, &inputs).expect("forward");
            eval_all(out.arrays()).expect("eval");
        })
    });

    // mlx-rs compiled, the baseline: first step eager (Adam's state), then
    // compile_with_state over (model, optimizer).
    let mut state = (hand.clone(), adam());
    let args = vec![x.clone(), y.clone()];
    hand_step(&mut state, &args).expect("first step");
    let mut step = compile_with_state(hand_step::<H>, None);
    group.bench_function("train/mlx-rs compiled", |b| {
        b.iter(|| {
            let loss = step(&mut state, &args[..]).expect("step");
            let arrays = hand_arrays(&state.0);
            eval_all(arrays.iter().chain(&loss)).expect("eval");
        })
    });
    let mut forward = compile_with_state(
        |m: &mut H, x: &Array| -> Result<Array, Exception> { m.forward(x) },
        None,
    );
    group.bench_function("forward/mlx-rs compiled", |b| {
        b.iter(|| {
            let logits = forward(&mut hand, &x).expect("forward");
            eval_all([&logits]).expect("eval");
        })
    });
    group.finish();
}

fn steps(c: &mut Criterion) {
    bench_workload::<Mlp, _>(c, &w1(), HandMlp::new().expect("model"));
    bench_workload::<Cnn, _>(c, &w2(), HandCnn::new(Pool::Reshape).expect("model"));
    bench_workload::<DeepMlp, _>(c, &w3(), HandDeep::new().expect("model"));
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = steps
}
criterion_main!(benches);

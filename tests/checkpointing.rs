//! `checkpoint`: layers recomputed in the backward pass compute the same
//! outputs and gradients as unmarked ones (a nested model, a repeat, a
//! layer, dropout drawing the same masks), compiled and eager, and a deep
//! stack trained with its blocks marked peaks lower in memory.

use std::sync::{Mutex, MutexGuard};

use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};

/// MLX's peak memory is the process's: the tests of this file run one at a
/// time, so that the memory test measures its own runs only.
fn alone() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

mithril::model! {
    Block {
        input x: [B, 16];
        x -> fc1: Linear(48) -> Gelu -> fc2: Linear(16) => h;
        Add(x, h) => y;
        output y;
    }

    Plain {
        input x: [B, 16];
        x -> block: Block -> blocks: Block * 3 -> head: Linear(4) => y;
        output y;
    }

    Marked {
        input x: [B, 16];
        x -> checkpoint block: Block -> checkpoint blocks: Block * 3
            -> checkpoint head: Linear(4) => y;
        output y;
    }

    Dropped {
        input x: [B, 16];
        x -> fc: Linear(16) -> Dropout(0.5) -> out: Linear(16) => y;
        output y;
    }

    PlainNoisy {
        input x: [B, 16];
        x -> Dropout(0.25) -> blocks: Dropped * 2 -> Dropout(0.25) -> Linear(4) => y;
        output y;
    }

    Wide {
        input x: [B, 64];
        x -> up: Linear(1024) -> Gelu -> down: Linear(64) => h;
        Add(x, h) => y;
        output y;
    }

    Deep {
        input x: [B, 64];
        x -> blocks: Wide * 24 -> head: Linear(1) => y;
        output y;
    }

    DeepMarked {
        input x: [B, 64];
        x -> checkpoint blocks: Wide * 24 -> head: Linear(1) => y;
        output y;
    }

    MarkedNoisy {
        input x: [B, 16];
        x -> Dropout(0.25) -> checkpoint blocks: Dropped * 2 -> Dropout(0.25)
            -> Linear(4) => y;
        output y;
    }
}

/// Every array of `a` equals `b`'s within `tol`; names the first that does not.
fn assert_same(what: &str, a: &[Array], b: &[Array], tol: f32) {
    assert_eq!(a.len(), b.len(), "{what}: counts differ");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.shape(), y.shape(), "{what} {i}: shapes differ");
        let worst = x
            .subtract(y)
            .and_then(|d| d.abs())
            .and_then(|d| d.max(None))
            .unwrap()
            .item_exact::<f32>();
        assert!(worst <= tol, "{what} {i}: differs by {worst}");
    }
}

fn input(batch: i32) -> Array {
    mithril::mlx_rs::random::normal::<f32>(&[batch, 16], None, None, None).unwrap()
}

fn outputs_and_gradients(graph_mode: bool) {
    let _alone = alone();
    let backend = MlxBackend::builder()
        .seed(7)
        .graph_mode(graph_mode)
        .build()
        .unwrap();
    let plain_params = Plain::init(&backend).unwrap();
    let marked_params = Marked::init(&backend).unwrap();
    assert_same(
        "parameters",
        &plain_params.to_arrays(),
        &marked_params.to_arrays(),
        0.0,
    );
    let x = input(5);
    let cotangent = Array::ones::<f32>(&[5, 4]).unwrap();
    let (plain_out, plain_grads) = mithril::compile::<Plain>(&backend)
        .evaluate_with_gradients(
            &plain_params,
            &PlainInputs { x: x.clone() },
            &[("y", cotangent.clone())],
        )
        .unwrap();
    let (marked_out, marked_grads) = mithril::compile::<Marked>(&backend)
        .evaluate_with_gradients(&marked_params, &MarkedInputs { x }, &[("y", cotangent)])
        .unwrap();
    assert_same("outputs", &[plain_out.y], &[marked_out.y], 1e-6);
    assert_same(
        "parameter gradients",
        &plain_grads.params.to_arrays(),
        &marked_grads.params.to_arrays(),
        1e-6,
    );
    assert_same(
        "input gradients",
        &[plain_grads.inputs.x],
        &[marked_grads.inputs.x],
        1e-6,
    );
}

#[test]
fn recomputed_blocks_give_the_same_gradients_compiled() {
    outputs_and_gradients(true);
}

#[test]
fn recomputed_blocks_give_the_same_gradients_eager() {
    outputs_and_gradients(false);
}

/// Training-mode loss and gradients of `M` on the same data, from a trainer
/// seeded with `seed` (the same seed, the same dropout keys).
fn noisy_gradients<M: Model<Inputs = I>, I>(
    seed: u64,
    graph_mode: bool,
    inputs: &I,
    targets: &Array,
) -> (Array, Vec<Array>) {
    let backend = MlxBackend::builder()
        .seed(seed)
        .graph_mode(graph_mode)
        .build()
        .unwrap();
    let params = mithril::init::<M>(&backend).unwrap();
    let objective = Objective::new("y", Loss::SquaredError);
    let mut trainer = Trainer::<M, _>::new(&backend, &objective, Sgd::new(0.1)).unwrap();
    let (loss, grads) = trainer
        .loss_and_gradients(&params, inputs, targets)
        .unwrap();
    (loss, grads.to_arrays())
}

fn dropout_draws_the_same_masks(graph_mode: bool) {
    let _alone = alone();
    let x = input(6);
    let targets = Array::zeros::<f32>(&[6, 4]).unwrap();
    let plain_inputs = PlainNoisyInputs { x: x.clone() };
    let (plain_loss, plain) =
        noisy_gradients::<PlainNoisy, _>(11, graph_mode, &plain_inputs, &targets);
    let (marked_loss, marked) =
        noisy_gradients::<MarkedNoisy, _>(11, graph_mode, &MarkedNoisyInputs { x }, &targets);
    assert_same(
        "loss",
        std::slice::from_ref(&plain_loss),
        &[marked_loss],
        1e-6,
    );
    assert_same("gradients", &plain, &marked, 1e-6);
    // Dropout was active: other keys give another loss.
    let (other_loss, _) = noisy_gradients::<PlainNoisy, _>(12, graph_mode, &plain_inputs, &targets);
    assert_ne!(
        plain_loss.item_exact::<f32>(),
        other_loss.item_exact::<f32>()
    );
}

#[test]
fn dropout_recomputed_draws_the_same_masks_compiled() {
    dropout_draws_the_same_masks(true);
}

#[test]
fn dropout_recomputed_draws_the_same_masks_eager() {
    dropout_draws_the_same_masks(false);
}

/// The peak memory of one training step's loss and gradients of `M` on a
/// batch of 512, after a first step (compilation, the optimizer's state).
fn peak_of_a_step<M: Model<Inputs = I>, I>(graph_mode: bool, inputs: &I) -> usize {
    let backend = MlxBackend::builder()
        .seed(5)
        .graph_mode(graph_mode)
        .build()
        .unwrap();
    let params = mithril::init::<M>(&backend).unwrap();
    let objective = Objective::new("y", Loss::SquaredError);
    let mut trainer = Trainer::<M, _>::new(&backend, &objective, Sgd::new(0.1)).unwrap();
    let targets = Array::zeros::<f32>(&[512, 1]).unwrap();
    let mut step = || {
        let (loss, grads) = trainer
            .loss_and_gradients(&params, inputs, &targets)
            .unwrap();
        let mut arrays = grads.to_arrays();
        arrays.push(loss);
        mithril::mlx_rs::transforms::eval(arrays.iter()).unwrap();
    };
    step();
    backend.clear_cache().unwrap();
    backend.reset_peak_memory().unwrap();
    step();
    backend.memory_info().unwrap().peak
}

fn recomputing_lowers_the_peak(graph_mode: bool) {
    let _alone = alone();
    let x = mithril::mlx_rs::random::normal::<f32>(&[512, 64], None, None, None).unwrap();
    x.eval().unwrap();
    let kept = peak_of_a_step::<Deep, _>(graph_mode, &DeepInputs { x: x.clone() });
    let recomputed = peak_of_a_step::<DeepMarked, _>(graph_mode, &DeepMarkedInputs { x });
    eprintln!(
        "peak of a step (graph mode {graph_mode}): {kept} bytes kept, {recomputed} recomputed"
    );
    // Unmarked, each of the 24 blocks keeps its [512, 1024] activations
    // (2 MiB a value, about 9 MiB a block) for the backward pass; marked,
    // one block's at a time (measured: about 230 MB against 79 MB, the rest
    // being parameters, gradients and one block's backward).
    assert!(
        recomputed * 2 < kept,
        "recomputed blocks peaked at {recomputed} bytes, kept ones at {kept}"
    );
}

#[test]
fn recomputing_lowers_the_peak_compiled() {
    recomputing_lowers_the_peak(true);
}

#[test]
fn recomputing_lowers_the_peak_eager() {
    recomputing_lowers_the_peak(false);
}

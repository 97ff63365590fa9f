//! Checkpoints in one process: a run saved and continued by a fresh trainer
//! ends bit-identical to an uninterrupted one (compiled and eager), a
//! checkpoint that does not fit is refused with every mismatch listed and
//! nothing changed, and `stop_on_non_finite` refuses a diverging step,
//! names what went non-finite, and leaves the run as it was. Killing real
//! processes is `tests/resume.rs`.

#[path = "common/training_run.rs"]
mod training_run;

use std::path::{Path, PathBuf};

use mithril::checkpoint::{Checkpoint, Progress};
use mithril::mlx_rs::builder::Builder;
use mithril::optimizers::{Adam, AdamW, Sgd, SgdBuilder};
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};
use training_run::{Contents, Run, Tiny, TinyParams, batch, contents, data};

mithril::model! {
    /// Tiny's inputs and outputs with another first layer.
    pub Wider {
        input x: [B, 8];
        x -> fc1: Linear(12) -> bn: BatchNorm -> Relu -> fc2: Linear(3) => logits;
        output logits;
    }

    /// No batch norm: gradients grow with the inputs.
    pub Plain {
        input x: [B, 8];
        x -> fc1: Linear(16) -> Relu -> fc2: Linear(3) => logits;
        output logits;
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mithril-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn param_bits(params: &TinyParams) -> Vec<Vec<u32>> {
    params
        .to_arrays()
        .iter()
        .map(|a| a.as_slice::<f32>().iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// The final checkpoint of a run that is never interrupted.
fn uninterrupted(graph_mode: bool, name: &str) -> Contents {
    let path = scratch(name);
    let mut run = Run::new(graph_mode, 5);
    assert!(run.train(u64::MAX, &path, |_| false).unwrap());
    run.trainer
        .save_checkpoint(&path, &run.params, &run.progress)
        .unwrap();
    contents(&path)
}

fn resumes_bit_identically(graph_mode: bool) {
    let mode = if graph_mode { "compiled" } else { "eager" };
    let reference = uninterrupted(graph_mode, &format!("reference-{mode}.safetensors"));
    assert_eq!(reference.0["mithril.steps"], "28");
    // Stopped after the first step (the eager one), at an epoch's end, and
    // mid-epoch; each time continued by a fresh trainer.
    for stop_at in [1u64, 7, 13] {
        let path = scratch(&format!("{mode}-{stop_at}.safetensors"));
        let mut run = Run::new(graph_mode, 5);
        let finished = run
            .train(1, &path, |r| r.trainer.steps() == stop_at)
            .unwrap();
        assert!(!finished);
        let mut resumed = Run::resume(graph_mode, &path).unwrap();
        assert_eq!(resumed.trainer.steps(), stop_at);
        assert_eq!(resumed.progress, run.progress);
        assert_eq!(param_bits(&resumed.params), param_bits(&run.params));
        assert!(resumed.train(u64::MAX, &path, |_| false).unwrap());
        resumed
            .trainer
            .save_checkpoint(&path, &resumed.params, &resumed.progress)
            .unwrap();
        let got = contents(&path);
        assert_eq!(got.0, reference.0, "{mode}, stopped at {stop_at}: metadata");
        for (name, bytes) in &reference.1 {
            assert!(
                got.1[name] == *bytes,
                "{mode}, stopped at {stop_at}: `{name}` differs"
            );
        }
        assert_eq!(got.1.len(), reference.1.len());
    }
}

#[test]
fn a_resumed_compiled_run_matches_an_uninterrupted_one_bit_for_bit() {
    resumes_bit_identically(true);
}

#[test]
fn a_resumed_eager_run_matches_an_uninterrupted_one_bit_for_bit() {
    resumes_bit_identically(false);
}

fn backend(dtype: DType) -> MlxBackend {
    MlxBackend::builder()
        .device(Device::Cpu)
        .dtype(dtype)
        .seed(3)
        .build()
        .unwrap()
}

fn objective() -> Objective {
    Objective::new("logits", Loss::cross_entropy())
}

/// A Tiny/Adam run after `steps` steps, its checkpoint written to `path`.
fn saved_run(path: &Path, steps: u64) -> Run {
    let mut run = Run::new(true, 8);
    run.train(steps, path, |r| r.trainer.steps() == steps)
        .unwrap();
    run
}

#[test]
fn checkpoints_that_do_not_fit_are_refused_with_every_mismatch() {
    let path = scratch("fit.safetensors");
    saved_run(&path, 3);
    let checkpoint = Checkpoint::load(&path).unwrap();
    assert_eq!(checkpoint.model(), "Tiny");
    assert_eq!(checkpoint.steps(), 3);
    assert!(
        checkpoint.optimizer().ends_with("Adam"),
        "{}",
        checkpoint.optimizer()
    );

    // Another model: its name and every layout difference.
    let b = backend(DType::F32);
    let mut params = Wider::init(&b).unwrap();
    let mut trainer = Trainer::<Wider, _>::new(&b, &objective(), Adam::new(0.1)).unwrap();
    let err = trainer.restore(&checkpoint, &mut params).unwrap_err();
    let text = err.to_string();
    let Error::CheckpointMismatch { problems, .. } = &err else {
        panic!("{err}")
    };
    for expected in [
        "it is a checkpoint of model `Tiny`",
        "parameter `fc1.weight`: expected shape [12, 8], found [16, 8]",
        "parameter `bn.weight`: expected shape [12], found [16]",
        "optimizer state `fc1.weight.0`: expected f32 with shape [12, 8], found f32 with shape [16, 8]",
    ] {
        assert!(
            problems.iter().any(|p| p == expected),
            "{expected:?} not in:\n{text}"
        );
    }

    // Another optimizer type.
    let mut params = Tiny::init(&b).unwrap();
    let mut adamw = Trainer::<Tiny, _>::new(&b, &objective(), AdamW::new(0.1)).unwrap();
    let err = adamw.restore(&checkpoint, &mut params).unwrap_err();
    assert!(
        err.to_string()
            .contains("this trainer's is `mlx_rs::optimizers::adamw::AdamW`"),
        "{err}"
    );
    let mut sgd = Trainer::<Tiny, Sgd>::new(&b, &objective(), Sgd::new(0.1)).unwrap();
    assert!(matches!(
        sgd.restore(&checkpoint, &mut params),
        Err(Error::CheckpointMismatch { .. })
    ));

    // Another parameter dtype.
    let half = backend(DType::BF16);
    let mut half_params = Tiny::init(&half).unwrap();
    let mut half_trainer = Trainer::<Tiny, _>::new(&half, &objective(), Adam::new(0.1)).unwrap();
    let err = half_trainer
        .restore(&checkpoint, &mut half_params)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("parameter `fc1.weight`: expected dtype bf16, found f32"),
        "{err}"
    );

    // A parameter file is not a checkpoint.
    let params_file = scratch("params-only.safetensors");
    mithril::io::save_params::<Tiny>(&params, &params_file).unwrap();
    let err = Checkpoint::load(&params_file).unwrap_err();
    assert!(matches!(err, Error::CheckpointFormat { .. }), "{err}");
    assert!(err.to_string().contains("a parameter file"), "{err}");
}

#[test]
fn a_refused_checkpoint_leaves_the_run_untouched() {
    // A bf16 run's checkpoint fits Tiny and Adam but not an f32 run: the
    // refusal comes after most checks, and must change nothing.
    let half_path = scratch("bf16.safetensors");
    let half = MlxBackend::builder()
        .device(Device::Cpu)
        .dtype(DType::BF16)
        .seed(1)
        .build()
        .unwrap();
    let mut half_params = Tiny::init(&half).unwrap();
    let mut half_trainer = Trainer::<Tiny, _>::new(&half, &objective(), Adam::new(0.1)).unwrap();
    let data = data();
    let (inputs, labels) = batch(&data, &(0..16).collect::<Vec<_>>());
    half_trainer
        .step(&mut half_params, &inputs, &labels)
        .unwrap();
    half_trainer
        .save_checkpoint(&half_path, &half_params, &Progress::default())
        .unwrap();
    let bad = Checkpoint::load(&half_path).unwrap();

    let path = scratch("untouched.safetensors");
    let mut reference = saved_run(&path, 4);
    let mut run = Run::resume(true, &path).unwrap();
    let before = param_bits(&run.params);
    let err = run.trainer.restore(&bad, &mut run.params).unwrap_err();
    assert!(matches!(err, Error::CheckpointMismatch { .. }), "{err}");
    assert_eq!(param_bits(&run.params), before);
    assert_eq!(run.trainer.steps(), 4);

    // Both continue to the same end: the optimizer state and key survived too.
    reference.train(u64::MAX, &path, |_| false).unwrap();
    run.train(u64::MAX, &path, |_| false).unwrap();
    assert_eq!(param_bits(&run.params), param_bits(&reference.params));
}

#[test]
fn damaged_checkpoints_are_typed_errors() {
    let path = scratch("damaged.safetensors");
    saved_run(&path, 2);
    let bytes = std::fs::read(&path).unwrap();

    let truncated = scratch("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() - 7]).unwrap();
    let err = Checkpoint::load(&truncated).unwrap_err();
    assert!(matches!(err, Error::Format { .. }), "{err}");

    // One flipped bit in the last tensor's data: well-formed, but corrupt.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x10;
    let corrupt = scratch("flipped.safetensors");
    std::fs::write(&corrupt, &flipped).unwrap();
    let err = Checkpoint::load(&corrupt).unwrap_err();
    assert!(matches!(err, Error::Checksum { .. }), "{err}");
    assert!(err.to_string().contains("corrupted checkpoint"), "{err}");

    let missing = Checkpoint::load(scratch("absent.safetensors")).unwrap_err();
    assert!(matches!(missing, Error::Io { .. }), "{missing}");
}

/// Steps of a Tiny run on fixed batches, with the non-finite check on.
fn checked_run(graph_mode: bool) -> (Run, (Vec<f32>, Vec<i32>)) {
    let mut run = Run::new(graph_mode, 2);
    run.trainer.stop_on_non_finite(true);
    (run, data())
}

fn good_batch(data: &(Vec<f32>, Vec<i32>), i: usize) -> (training_run::TinyInputs, Array) {
    batch(data, &(i * 16..(i + 1) * 16).collect::<Vec<_>>())
}

fn scaled(inputs: &training_run::TinyInputs, by: f32) -> training_run::TinyInputs {
    training_run::TinyInputs {
        x: inputs.x.multiply(Array::from_f32(by)).unwrap(),
    }
}

fn divergence_is_refused(graph_mode: bool) {
    let (mut run, data) = checked_run(graph_mode);
    let (mut reference, _) = checked_run(graph_mode);
    let path = scratch(&format!("diverge-{graph_mode}.safetensors"));
    for i in 0..3 {
        let (inputs, labels) = good_batch(&data, i);
        run.trainer.step(&mut run.params, &inputs, &labels).unwrap();
        reference
            .trainer
            .step(&mut reference.params, &inputs, &labels)
            .unwrap();
    }
    run.trainer
        .save_checkpoint(&path, &run.params, &run.progress)
        .unwrap();
    let before = param_bits(&run.params);

    // An infinite input, a finite input whose first layer overflows, then
    // a NaN input: each refused, named, and not applied.
    let (inputs, labels) = good_batch(&data, 3);
    let mut with_inf = inputs.x.as_slice::<f32>().to_vec();
    with_inf[5] = f32::INFINITY;
    let infinite = training_run::TinyInputs {
        x: Array::from_slice(&with_inf, &[16, 8]),
    };
    let cases = [
        (infinite, "input `x`"),
        (scaled(&inputs, 3e38), "the output of `fc1` (Linear(16))"),
        (scaled(&inputs, f32::NAN), "input `x`"),
    ];
    for (bad, first) in cases {
        let err = run
            .trainer
            .step(&mut run.params, &bad, &labels)
            .unwrap_err();
        let Error::Diverged {
            step,
            first: found,
            non_finite,
        } = &err
        else {
            panic!("{err}")
        };
        println!("{err}");
        assert_eq!((*step, found.as_str()), (4, first), "{err}");
        assert!(non_finite.iter().any(|n| n == "the loss"), "{err}");
        assert!(
            err.to_string().starts_with("training diverged at step 4: "),
            "{err}"
        );
        assert_eq!(param_bits(&run.params), before);
        assert_eq!(run.trainer.steps(), 3);
    }
    // The last good checkpoint is the one written before.
    assert_eq!(Checkpoint::load(&path).unwrap().steps(), 3);

    // Refused steps left no trace: optimizer state and random key included.
    for i in 3..6 {
        let (inputs, labels) = good_batch(&data, i);
        run.trainer.step(&mut run.params, &inputs, &labels).unwrap();
        reference
            .trainer
            .step(&mut reference.params, &inputs, &labels)
            .unwrap();
    }
    assert_eq!(param_bits(&run.params), param_bits(&reference.params));
}

#[test]
fn a_diverging_compiled_step_is_refused_and_named() {
    divergence_is_refused(true);
}

#[test]
fn a_diverging_eager_step_is_refused_and_named() {
    divergence_is_refused(false);
}

#[test]
fn an_update_that_overflows_names_the_parameter() {
    for graph_mode in [true, false] {
        let b = MlxBackend::builder()
            .device(Device::Cpu)
            .seed(4)
            .graph_mode(graph_mode)
            .build()
            .unwrap();
        let mut params = Plain::init(&b).unwrap();
        let before: Vec<Vec<f32>> = params
            .to_arrays()
            .iter()
            .map(|a| a.as_slice::<f32>().to_vec())
            .collect();
        // SGD with an absurd learning rate: finite loss and gradients, an
        // update beyond f32's range.
        let sgd = SgdBuilder::new(3e38).build().unwrap();
        let mut trainer = Trainer::<Plain, _>::new(&b, &objective(), sgd).unwrap();
        trainer.stop_on_non_finite(true);
        let data = data();
        let (inputs, labels) = good_batch(&data, 0);
        let inputs = PlainInputs {
            x: scaled(&inputs, 100.0).x,
        };
        let err = trainer.step(&mut params, &inputs, &labels).unwrap_err();
        let Error::Diverged {
            step,
            first,
            non_finite,
        } = &err
        else {
            panic!("{err}")
        };
        println!("{err}");
        assert_eq!(*step, 1);
        assert_eq!(first, "`fc1.weight` after the update", "{err}");
        assert!(!non_finite.iter().any(|n| n == "the loss"), "{err}");
        let after: Vec<Vec<f32>> = params
            .to_arrays()
            .iter()
            .map(|a| a.as_slice::<f32>().to_vec())
            .collect();
        assert_eq!(after, before);
        assert_eq!(trainer.steps(), 0);
    }
}

#[test]
fn finite_values_whose_sum_overflows_are_not_a_divergence() {
    // The in-step screen sums each parameter; running variances of 3e38
    // sum past f32's range though every value is finite (and training
    // mode does not read them). The exact check that follows a raised
    // flag must let every step stand.
    for graph_mode in [true, false] {
        let mut run = Run::new(graph_mode, 6);
        run.params.bn.running_var = Array::from_slice(&[3e38f32; 16], &[16]);
        let mut unchecked = Run::new(graph_mode, 6);
        unchecked.params.bn.running_var = run.params.bn.running_var.clone();
        run.trainer.stop_on_non_finite(true);
        let data = data();
        for i in 0..3 {
            let (inputs, labels) = good_batch(&data, i);
            run.trainer.step(&mut run.params, &inputs, &labels).unwrap();
            unchecked
                .trainer
                .step(&mut unchecked.params, &inputs, &labels)
                .unwrap();
        }
        assert_eq!(run.trainer.steps(), 3);
        assert_eq!(param_bits(&run.params), param_bits(&unchecked.params));
    }
}

//! Checkpoints: train a few steps, save the parameters with
//! `mithril::io::save_params` (safetensors, written atomically, readable by
//! Python MLX's `mx.load`), load them back with `load_params`, check that the
//! loaded model gives bit-identical outputs, resume training from them, and
//! show the error for a file that does not fit a different model.
//!
//! ```sh
//! cargo run --example save_load                        # writes out/classifier.safetensors
//! cargo run --example save_load -- --quick             # CI: asserts all of the above
//! ```

mod common;

use std::path::PathBuf;

use clap::Parser;
use mithril::io::{load_params, save_params};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};

use common::flags::Defaults;
use common::mnist::{MnistRun, StepsFlags, batch};

mithril::model! {
    /// The guide's classifier.
    pub Classifier {
        input image: [B, 784];
        image -> fc1: Linear(128) -> Relu -> fc2: Linear(64) -> Relu -> fc3: Linear(10) => logits;
        output logits;
    }

    /// A different model: wider first layer, no fc2, a head named `head`.
    pub Wider {
        input image: [B, 784];
        image -> fc1: Linear(256) -> Relu -> head: Linear(10) => logits;
        output logits;
    }
}

/// --batch-size, --lr and --steps when not given.
const DEFAULTS: Defaults = Defaults::new("64", "1e-3", [100, 50]);

/// Save, load, compare and resume a classifier's parameters.
#[derive(Parser)]
struct Args {
    /// Directory for classifier.safetensors
    #[arg(long, default_value = "out")]
    out: PathBuf,
    #[command(flatten)]
    run: StepsFlags,
}

/// The run's steps (Adam's) on consecutive batches from batch `*next` on;
/// returns the losses.
fn train(
    trainer: &mut Trainer<Classifier, Adam>,
    params: &mut ClassifierParams,
    run: &MnistRun,
    next: &mut usize,
) -> Result<Vec<f32>, common::Error> {
    let mut losses = Vec::new();
    for _ in 0..run.length {
        let indices = common::order::consecutive(*next, run.batch_size, run.train.len());
        *next += 1;
        let batch = batch::<Classifier>(&run.train, &indices, &[784])?;
        losses.push(common::train::step(trainer, params, &batch)?);
    }
    Ok(losses)
}

/// Means of the first and of the last 10 losses.
fn first_and_last(losses: &[f32]) -> (f32, f32) {
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    (mean(&losses[..10]), mean(&losses[losses.len() - 10..]))
}

fn main() -> Result<(), common::Error> {
    let args: Args = common::flags::parse(&DEFAULTS);
    let mut run = args.run.load(&DEFAULTS)?;
    // Ten losses at each end, to compare means.
    run.length = run.length.max(10);
    let steps = run.length;
    let backend = MlxBackend::builder().seed(run.seed).build()?;
    let objective = Objective::new("logits", Loss::cross_entropy());

    let mut params = Classifier::init(&backend)?;
    let mut trainer = Trainer::<Classifier, _>::new(&backend, &objective, Adam::new(run.lr))?;
    let mut next = 0;
    let losses = train(&mut trainer, &mut params, &run, &mut next)?;
    let (start, before) = first_and_last(&losses);
    println!(
        "trained {steps} steps: mean loss of the first 10 {start:.4}, of the last 10 {before:.4}"
    );

    // Names are mlx.nn's (`fc1.weight`, ...); the file is replaced atomically,
    // so an interrupted save never leaves a half-written checkpoint.
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join("classifier.safetensors");
    save_params::<Classifier>(&params, &path)?;
    println!(
        "saved {} ({} bytes)",
        path.display(),
        std::fs::metadata(&path)?.len()
    );

    // Every name, shape and dtype is checked against the model on loading.
    let loaded = load_params::<Classifier>(&path, DType::F32)?;
    let (inputs, _) = batch::<Classifier>(&run.test, &common::order::first(500), &[784])?;
    let mut model = mithril::compile::<Classifier>(&backend);
    let original = model.evaluate(&params, &inputs)?.logits;
    let reloaded = model.evaluate(&loaded, &inputs)?.logits;
    let identical = original.eq_values(&reloaded)?;
    println!("loaded it back: logits on 500 test digits bit-identical: {identical}");

    // Resuming: a new trainer (as a new process would make) on the loaded
    // parameters. The file holds parameters only: Adam's moments restart.
    let mut resumed = Trainer::<Classifier, _>::new(&backend, &objective, Adam::new(run.lr))?;
    let mut params = loaded;
    let losses = train(&mut resumed, &mut params, &run, &mut next)?;
    let (after, end) = first_and_last(&losses);
    println!(
        "resumed for {steps} more steps: mean loss of the first 10 {after:.4} (it goes on from \
         {before:.4}, not from {start:.4}), of the last 10 {end:.4}"
    );

    // A file that does not fit: every mismatch is listed in one error.
    let mismatch = match load_params::<Wider>(&path, DType::F32) {
        Err(e @ mithril::Error::Mismatch { .. }) => {
            println!("loading it into `Wider` fails as it should:\n{e}");
            true
        }
        Err(e) => return Err(format!("expected a mismatch error, got: {e}").into()),
        Ok(_) => false,
    };

    // Resuming from scratch would start near ln(10) = 2.3 again.
    let resumed_ok = after < 0.5 * start;
    common::report::quick_check(
        run.quick,
        identical && resumed_ok && mismatch,
        &format!(
            "reloaded outputs identical ({identical}), resumed loss {after:.4} < half the starting loss {start:.4} ({resumed_ok}), \
             mismatch reported ({mismatch})"
        ),
    )
}

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

use std::error::Error;
use std::path::PathBuf;

use clap::Parser;
use mithril::data::mnist::{Mnist, repo_dir};
use mithril::io::{load_params, save_params};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};

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

/// Save, load, compare and resume a classifier's parameters.
#[derive(Parser)]
struct Args {
    /// Training steps before saving, and again after loading (at least 10) [default: 100, or 50 with --quick]
    #[arg(long, value_parser = at_least_one)]
    steps: Option<usize>,
    /// Digits per step
    #[arg(long, default_value_t = 64, value_parser = at_least_one)]
    batch_size: usize,
    /// Adam's learning rate
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// Seed of the initial parameters
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Directory for classifier.safetensors
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// CI's short run: fewer steps, and fail unless every check holds
    #[arg(long)]
    quick: bool,
}

/// Counts and sizes: 1 or more.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse() {
        Ok(0) => Err("must be at least 1".into()),
        n => n.map_err(|e: std::num::ParseIntError| e.to_string()),
    }
}

/// `steps` Adam steps on consecutive batches from `*next`; returns the losses.
fn train(
    trainer: &mut Trainer<Classifier, Adam>,
    params: &mut ClassifierParams,
    data: &Mnist,
    next: &mut usize,
    steps: usize,
    batch: usize,
) -> Result<Vec<f32>, Box<dyn Error>> {
    let mut losses = Vec::new();
    for _ in 0..steps {
        let indices: Vec<usize> = (*next..*next + batch).map(|i| i % data.len()).collect();
        *next += batch;
        let image = Array::from_slice(&data.batch_pixels(&indices), &[batch as i32, 784]);
        let labels = Array::from_slice(&data.batch_labels(&indices), &[batch as i32]);
        losses.push(
            trainer
                .step(params, &ClassifierInputs { image }, &labels)?
                .loss
                .item_exact::<f32>(),
        );
    }
    Ok(losses)
}

/// Means of the first and of the last 10 losses.
fn first_and_last(losses: &[f32]) -> (f32, f32) {
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    (mean(&losses[..10]), mean(&losses[losses.len() - 10..]))
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let steps = args
        .steps
        .unwrap_or(if args.quick { 50 } else { 100 })
        .max(10);
    let data = Mnist::load_train_10k(repo_dir())?;
    let backend = MlxBackend::builder().seed(args.seed).build()?;
    let objective = Objective::new("logits", Loss::cross_entropy());

    let mut params = Classifier::init(&backend)?;
    let mut trainer = Trainer::<Classifier, _>::new(&backend, &objective, Adam::new(args.lr))?;
    let mut next = 0;
    let losses = train(
        &mut trainer,
        &mut params,
        &data,
        &mut next,
        steps,
        args.batch_size,
    )?;
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
    let test = Mnist::load_test(repo_dir())?;
    let pixels = test.batch_pixels(&(0..500).collect::<Vec<_>>());
    let inputs = ClassifierInputs {
        image: Array::from_slice(&pixels, &[500, 784]),
    };
    let mut model = mithril::compile::<Classifier>(&backend);
    let original = model.evaluate(&params, &inputs)?.logits;
    let reloaded = model.evaluate(&loaded, &inputs)?.logits;
    let identical = original.eq_values(&reloaded)?;
    println!("loaded it back: logits on 500 test digits bit-identical: {identical}");

    // Resuming: a new trainer (as a new process would make) on the loaded
    // parameters. The file holds parameters only: Adam's moments restart.
    let mut resumed = Trainer::<Classifier, _>::new(&backend, &objective, Adam::new(args.lr))?;
    let mut params = loaded;
    let losses = train(
        &mut resumed,
        &mut params,
        &data,
        &mut next,
        steps,
        args.batch_size,
    )?;
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

    if args.quick {
        // Resuming from scratch would start near ln(10) = 2.3 again.
        let resumed_ok = after < 0.5 * start;
        let ok = identical && resumed_ok && mismatch;
        println!(
            "quick check: reloaded outputs identical ({identical}), resumed loss {after:.4} < half the starting loss {start:.4} ({resumed_ok}), \
             mismatch reported ({mismatch}): {}",
            if ok { "ok" } else { "FAILED" }
        );
        if !ok {
            return Err("quick check failed".into());
        }
    }
    Ok(())
}

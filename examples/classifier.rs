//! The guide's classifier: an MLP 784-128-64-10 trained on MNIST with Adam,
//! then its accuracy on the official test digits.
//!
//! ```sh
//! cargo run --release --example classifier               # 5 epochs on 10,000 digits
//! cargo run --example classifier -- --quick              # CI: 2 epochs, asserts >= 88% on 2,000 test digits
//! cargo run --example classifier -- --help
//! ```

mod common;

use std::error::Error;
use std::time::Instant;

use clap::Parser;
use mithril::data::mnist::{Mnist, repo_dir};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer, accuracy};

mithril::model! {
    /// The guide's classifier: flattened 28x28 digits in, ten logits and
    /// their probabilities out. Training uses the logits (the loss applies
    /// its own log-softmax); `probs` is there for inference.
    pub Classifier {
        input image: [B, 784];
        image -> fc1: Linear(128) -> Relu -> fc2: Linear(64) -> Relu -> fc3: Linear(10) => logits;
        logits -> Softmax => probs;
        output logits, probs;
    }
}

/// --quick: two epochs, then the accuracy it must reach on this many test digits.
const QUICK: (usize, f32) = (2_000, 0.88);

/// Train the guide's MLP classifier on MNIST.
#[derive(Parser)]
struct Args {
    /// Passes over the training digits [default: 5, or 2 with --quick]
    #[arg(long, value_parser = at_least_one)]
    epochs: Option<usize>,
    /// Digits per training step
    #[arg(long, default_value_t = 64, value_parser = at_least_one)]
    batch_size: usize,
    /// Adam's learning rate
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// Seed of the initial parameters and the shuffles
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// CI's short run: two epochs, and fail unless the accuracy is reached
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

/// Digits `indices` of `data` as model inputs (pixels in [0, 1]) and labels.
fn batch(data: &Mnist, indices: &[usize]) -> (ClassifierInputs, Array) {
    let n = indices.len() as i32;
    let image = Array::from_slice(&data.batch_pixels(indices), &[n, 784]);
    let labels = Array::from_slice(&data.batch_labels(indices), &[n]);
    (ClassifierInputs { image }, labels)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let train = Mnist::load_train_10k(repo_dir())?;
    let test = Mnist::load_test(repo_dir())?;
    let (n_train, n_test) = (train.len(), if args.quick { QUICK.0 } else { test.len() });
    let epochs = args.epochs.unwrap_or(if args.quick { 2 } else { 5 });

    // The backend fixes dtype (f32 by default), device and seed; `init`
    // draws mlx.nn's default initialisation from that seed.
    let backend = MlxBackend::builder().seed(args.seed).build()?;
    let mut params = Classifier::init(&backend)?;
    println!("{}", Classifier::summary());

    // One compiled MLX step per batch: forward, cross-entropy on `logits`,
    // backward and Adam's update.
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<Classifier, _>::new(&backend, &objective, Adam::new(args.lr))?;
    // The compiled forward pass, for evaluation (inference mode).
    let mut model = mithril::compile::<Classifier>(&backend);
    let (test_inputs, test_labels) = batch(&test, &(0..n_test).collect::<Vec<_>>());

    let mut rng = common::SplitMix64::new(args.seed);
    let mut order: Vec<usize> = (0..n_train).collect();
    let mut test_accuracy = 0.0;
    for epoch in 1..=epochs {
        let started = Instant::now();
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        let steps = order.chunks(args.batch_size).len();
        for indices in order.chunks(args.batch_size) {
            let (inputs, labels) = batch(&train, indices);
            loss_sum += trainer
                .step(&mut params, &inputs, &labels)?
                .loss
                .item_exact::<f32>();
        }
        let out = model.evaluate(&params, &test_inputs)?;
        test_accuracy = accuracy(&out.logits, &test_labels)?;
        println!(
            "epoch {epoch}/{epochs}: mean loss {:.4}, test accuracy {:.2}% ({:.1} s)",
            loss_sum / steps as f32,
            100.0 * test_accuracy,
            started.elapsed().as_secs_f32()
        );
    }

    // `probs` rows are distributions: the first test digit's prediction.
    let out = model.evaluate(&params, &batch(&test, &[0]).0)?;
    let probs = mithril::tensor::to_vec::<f32>(&out.probs)?;
    let (digit, p) = probs
        .iter()
        .enumerate()
        .fold((0, 0.0f32), |b, (i, &p)| if p > b.1 { (i, p) } else { b });
    println!(
        "test digit 0 (a {}): predicted {digit} with probability {p:.3}",
        test.labels[0]
    );

    if args.quick {
        let ok = test_accuracy >= QUICK.1;
        println!(
            "quick check: test accuracy {:.2}% on {n_test} digits after {epochs} epoch(s) on {n_train} >= {:.0}%: {}",
            100.0 * test_accuracy,
            100.0 * QUICK.1,
            if ok { "ok" } else { "FAILED" }
        );
        if !ok {
            return Err("quick check failed".into());
        }
    }
    Ok(())
}

//! A custom activation through the DSL's `Lambda`: swish (x * sigmoid(x)),
//! written as a plain Rust function over MLX arrays, used in an MLP, checked
//! against its analytic derivative (MLX differentiates it like any built-in
//! layer) and trained on MNIST.
//!
//! ```sh
//! cargo run --release --example custom_op              # 3 epochs on 10,000 digits
//! cargo run --example custom_op -- --quick             # CI: 2 epochs, asserts >= 88% on 2,000 test digits
//! ```

use std::error::Error;

use clap::Parser;
use mithril::data::mnist::{Mnist, repo_dir};
use mithril::mlx_rs::{error::Exception, ops};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::tensor::to_vec;
use mithril::train::{Loss, Objective, Trainer, accuracy};

/// Swish (also SiLU): `x * sigmoid(x)`. Any `fn(&Array) -> Result<Array,
/// Exception>` made of MLX operations works; it is traced into the compiled
/// graph and differentiated with the rest of the model.
fn swish(x: &Array) -> Result<Array, Exception> {
    x.multiply(ops::sigmoid(x)?)
}

mithril::model! {
    /// The guide's MLP with swish instead of Relu. `shape = same` tells the
    /// macro the function keeps its input's shape (it cannot look inside).
    pub SwishMlp {
        input image: [B, 784];
        image -> fc1: Linear(128) -> act1: Lambda(swish, shape = same)
              -> fc2: Linear(64) -> act2: Lambda(swish, shape = same)
              -> fc3: Linear(10) => logits;
        output logits;
    }

    /// The activation alone, to look at its gradient.
    pub Swish {
        input x: [N];
        x -> Lambda(swish, shape = same) => y;
        output y;
    }
}

/// --quick: two epochs, then the accuracy it must reach on this many test digits.
const QUICK: (usize, f32) = (2_000, 0.88);

/// Train an MLP with a custom swish activation on MNIST.
#[derive(Parser)]
struct Args {
    /// Passes over the training digits [default: 3, or 2 with --quick]
    #[arg(long, value_parser = at_least_one)]
    epochs: Option<usize>,
    /// Digits per training step
    #[arg(long, default_value_t = 64, value_parser = at_least_one)]
    batch_size: usize,
    /// Adam's learning rate
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// Seed of the initial parameters
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

fn batch(data: &Mnist, indices: &[usize]) -> (SwishMlpInputs, Array) {
    let n = indices.len() as i32;
    let image = Array::from_slice(&data.batch_pixels(indices), &[n, 784]);
    (
        SwishMlpInputs { image },
        Array::from_slice(&data.batch_labels(indices), &[n]),
    )
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let backend = MlxBackend::builder().seed(args.seed).build()?;
    println!("{}", SwishMlp::summary());

    // d swish / dx = s + x s (1 - s) with s = sigmoid(x), against MLX's vjp.
    let xs: Vec<f32> = (-4..=4).map(|i| i as f32).collect();
    let x = Array::from_slice(&xs, &[xs.len() as i32]);
    let ones = Array::from_slice(&vec![1.0f32; xs.len()], &[xs.len() as i32]);
    let (out, grads) = mithril::compile::<Swish>(&backend).evaluate_with_gradients(
        &Swish::init(&backend)?,
        &SwishInputs { x },
        &[("y", ones)],
    )?;
    let (ys, dys) = (to_vec::<f32>(&out.y)?, to_vec::<f32>(&grads.inputs.x)?);
    let mut worst = 0.0f32;
    println!("     x    swish(x)   d/dx (MLX)   d/dx (by hand)");
    for ((&x, y), dy) in xs.iter().zip(ys).zip(dys) {
        let s = 1.0 / (1.0 + (-x).exp());
        let by_hand = s + x * s * (1.0 - s);
        worst = worst.max((dy - by_hand).abs());
        println!("{x:6.1} {y:11.5} {dy:12.5} {by_hand:16.5}");
    }
    if worst > 1e-5 {
        return Err(format!("swish's gradient is off by {worst}").into());
    }

    let train = Mnist::load_train_10k(repo_dir())?;
    let test = Mnist::load_test(repo_dir())?;
    let (n_train, n_test) = (train.len(), if args.quick { QUICK.0 } else { test.len() });
    let epochs = args.epochs.unwrap_or(if args.quick { 2 } else { 3 });
    let mut params = SwishMlp::init(&backend)?;
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<SwishMlp, _>::new(&backend, &objective, Adam::new(args.lr))?;
    let mut model = mithril::compile::<SwishMlp>(&backend);
    let (test_inputs, test_labels) = batch(&test, &(0..n_test).collect::<Vec<_>>());
    let mut test_accuracy = accuracy(&model.evaluate(&params, &test_inputs)?.logits, &test_labels)?;
    println!("untrained: test accuracy {:.2}%", 100.0 * test_accuracy);
    for epoch in 1..=epochs {
        let mut losses = Vec::new();
        for indices in (0..n_train).collect::<Vec<_>>().chunks(args.batch_size) {
            let (inputs, labels) = batch(&train, indices);
            losses.push(
                trainer
                    .step(&mut params, &inputs, &labels)?
                    .loss
                    .item_exact::<f32>(),
            );
        }
        test_accuracy = accuracy(&model.evaluate(&params, &test_inputs)?.logits, &test_labels)?;
        let mean = losses.iter().sum::<f32>() / losses.len() as f32;
        println!(
            "epoch {epoch}/{epochs}: mean loss {mean:.4}, test accuracy {:.2}%",
            100.0 * test_accuracy
        );
    }

    if args.quick {
        let ok = test_accuracy >= QUICK.1;
        println!(
            "quick check: swish gradient within 1e-5 of the analytic one (max error {worst:.1e}); test accuracy {:.2}% on {n_test} digits after {epochs} epoch(s) on {n_train} >= {:.0}%: {}",
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

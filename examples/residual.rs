//! A small ResNet-style classifier: a residual block (two 3x3 convolutions
//! with batch norm, the input added back before the last Relu) written once
//! as a model, then nested and repeated with `Block * 2`, trained briefly on
//! MNIST and evaluated in inference mode (batch norm's running statistics).
//!
//! ```sh
//! cargo run --release --example residual                # 600 steps
//! cargo run --example residual -- --quick               # CI: 200 steps, asserts >= 70% on 500 digits
//! ```

use std::error::Error;
use std::time::Instant;

use clap::Parser;
use mithril::data::mnist::{Mnist, repo_dir};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer, accuracy};

mithril::model! {
    /// A basic residual block. It keeps its input's shape (`padding = same`
    /// keeps the symbolic H and W), which is what lets it repeat.
    pub Block {
        input x: [B, H, W, 16];
        x -> conv1: Conv2d(16, 3, padding = same, bias = false) -> bn1: BatchNorm -> Relu
          -> conv2: Conv2d(16, 3, padding = same, bias = false) -> bn2: BatchNorm => h;
        Add(x, h) -> Relu => y;
        output y;
    }

    /// Digits -> strided stem -> two residual blocks -> global average pool -> logits.
    pub ResNet {
        input image: [B, 784];
        image -> Reshape([B, 28, 28, 1])
              -> stem: Conv2d(16, 3, stride = 2, padding = 1) -> stem_bn: BatchNorm -> Relu
              -> MaxPool2d(2)
              -> blocks: Block * 2
              -> pool: Mean(axes = [1, 2])
              -> head: Linear(10) => logits;
        output logits;
    }
}

/// --quick: steps, test digits and the accuracy to reach (chance is 10%).
const QUICK: (usize, usize, f32) = (200, 500, 0.70);

/// Train a small residual network on MNIST.
#[derive(Parser)]
struct Args {
    /// Training steps [default: 600, or 200 with --quick]
    #[arg(long, value_parser = at_least_one)]
    steps: Option<usize>,
    /// Digits per step
    #[arg(long, default_value_t = 32, value_parser = at_least_one)]
    batch_size: usize,
    /// Adam's learning rate
    #[arg(long, default_value_t = 2e-3)]
    lr: f32,
    /// Seed of the initial parameters
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// CI's short run: fewer steps, and fail unless the accuracy is reached
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

fn batch(data: &Mnist, indices: &[usize]) -> (ResNetInputs, Array) {
    let n = indices.len() as i32;
    let image = Array::from_slice(&data.batch_pixels(indices), &[n, 784]);
    (
        ResNetInputs { image },
        Array::from_slice(&data.batch_labels(indices), &[n]),
    )
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let steps = args.steps.unwrap_or(if args.quick { QUICK.0 } else { 600 });
    let n_test = if args.quick { QUICK.1 } else { 2_000 };
    // The repeated block is one row here; its parameters are named
    // `blocks.0.conv1.weight`, ..., `blocks.1.bn2.running_var` (safetensors,
    // mlx.nn) and typed as `params.blocks: Vec<BlockParams>` in Rust.
    println!("{}", ResNet::summary());

    let backend = MlxBackend::builder().seed(args.seed).build()?;
    let mut params = ResNet::init(&backend)?;
    println!(
        "params.blocks: {} x BlockParams; blocks[1].conv2.weight {:?}, blocks[1].bn2.running_var {:?}",
        params.blocks.len(),
        params.blocks[1].conv2.weight.shape(),
        params.blocks[1].bn2.running_var.shape()
    );
    let train = Mnist::load_train_10k(repo_dir())?;
    let test = Mnist::load_test(repo_dir())?;
    // Trainer steps run in training mode: batch norm normalises with the
    // batch's statistics and updates its running mean and variance.
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<ResNet, _>::new(&backend, &objective, Adam::new(args.lr))?;
    let started = Instant::now();
    let mut losses = Vec::new();
    for step in 0..steps {
        let indices: Vec<usize> = (step * args.batch_size..(step + 1) * args.batch_size)
            .map(|i| i % train.len())
            .collect();
        let (inputs, labels) = batch(&train, &indices);
        losses.push(
            trainer
                .step(&mut params, &inputs, &labels)?
                .loss
                .item_exact::<f32>(),
        );
        if (step + 1) % 50 == 0 || step + 1 == steps {
            let recent = &losses[losses.len().saturating_sub(50)..];
            println!(
                "step {:4}/{steps}: mean loss of the last {} steps {:.4}",
                step + 1,
                recent.len(),
                recent.iter().sum::<f32>() / recent.len() as f32
            );
        }
    }
    println!("{steps} steps in {:.1} s", started.elapsed().as_secs_f32());

    // `evaluate` runs in inference mode: batch norm uses the running statistics.
    let mut model = mithril::compile::<ResNet>(&backend);
    let (inputs, labels) = batch(&test, &(0..n_test).collect::<Vec<_>>());
    let test_accuracy = accuracy(&model.evaluate(&params, &inputs)?.logits, &labels)?;
    println!(
        "test accuracy on {n_test} digits: {:.2}%",
        100.0 * test_accuracy
    );

    if args.quick {
        let ok = test_accuracy >= QUICK.2;
        println!(
            "quick check: test accuracy {:.2}% after {steps} steps >= {:.0}%: {}",
            100.0 * test_accuracy,
            100.0 * QUICK.2,
            if ok { "ok" } else { "FAILED" }
        );
        if !ok {
            return Err("quick check failed".into());
        }
    }
    Ok(())
}

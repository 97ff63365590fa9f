//! A small ResNet-style classifier: a residual block (two 3x3 convolutions
//! with batch norm, the input added back before the last Relu) written once
//! as a model, then nested and repeated with `Block * 2`, trained briefly on
//! MNIST and evaluated in inference mode (batch norm's running statistics).
//!
//! ```sh
//! cargo run --release --example residual                # 600 steps
//! cargo run --example residual -- --quick               # CI: 200 steps, asserts >= 70% on 500 digits
//! ```

mod common;

use std::time::Instant;

use clap::Parser;
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};

use common::flags::Defaults;
use common::mnist::{StepsFlags, batch};

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

/// --quick: test digits and the accuracy to reach (chance is 10%).
const QUICK: (usize, f64) = (500, 0.70);

/// --batch-size, --lr and --steps when not given.
const DEFAULTS: Defaults = Defaults::new("32", "2e-3", [600, 200]);

/// Train a small residual network on MNIST.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    run: StepsFlags,
}

fn main() -> Result<(), common::Error> {
    let run = common::flags::parse::<Args>(&DEFAULTS)
        .run
        .load(&DEFAULTS)?;
    let steps = run.length;
    let n_test = if run.quick { QUICK.0 } else { 2_000 };
    // The repeated block is one row here; its parameters are named
    // `blocks.0.conv1.weight`, ..., `blocks.1.bn2.running_var` (safetensors,
    // mlx.nn) and typed as `params.blocks: Vec<BlockParams>` in Rust.
    println!("{}", ResNet::summary());

    let backend = MlxBackend::builder().seed(run.seed).build()?;
    let mut params = ResNet::init(&backend)?;
    println!(
        "params.blocks: {} x BlockParams; blocks[1].conv2.weight {:?}, blocks[1].bn2.running_var {:?}",
        params.blocks.len(),
        params.blocks[1].conv2.weight.shape(),
        params.blocks[1].bn2.running_var.shape()
    );
    let (train, test) = (&run.train, &run.test);
    // Trainer steps run in training mode: batch norm normalises with the
    // batch's statistics and updates its running mean and variance.
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<ResNet, _>::new(&backend, &objective, Adam::new(run.lr))?;
    let started = Instant::now();
    let mut losses = Vec::new();
    for step in 0..steps {
        let indices = common::order::consecutive(step, run.batch_size, train.len());
        let batch = batch::<ResNet>(train, &indices, &[784])?;
        losses.push(common::train::step(&mut trainer, &mut params, &batch)?);
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
    let test_accuracy = common::mnist::accuracy(&mut model, &params, test, n_test, &[784])?;
    println!(
        "test accuracy on {n_test} digits: {:.2}%",
        100.0 * test_accuracy
    );

    common::report::quick_check(
        run.quick,
        test_accuracy >= QUICK.1,
        &format!(
            "test accuracy {:.2}% after {steps} steps >= {:.0}%",
            100.0 * test_accuracy,
            100.0 * QUICK.1
        ),
    )
}

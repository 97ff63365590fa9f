//! The guide's two training loops, side by side on the same batches from the
//! same initial parameters:
//!
//! 1. by hand: `trainer.loss_and_gradients` gives the loss and typed
//!    gradients, and a few lines of Rust apply plain SGD (`p -= lr * g`);
//! 2. with mlx-rs's Adam through `Trainer::step`: forward, loss, backward
//!    and the optimizer's update in one compiled MLX closure.
//!
//! ```sh
//! cargo run --release --example adam                   # 300 steps
//! cargo run --example adam -- --quick                  # CI: 150 steps, asserts both losses fall
//! ```

mod common;

use clap::Parser;
use mithril::optimizers::{Adam, Sgd};
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};

use common::flags::Defaults;
use common::mnist::{StepsFlags, batch};

mithril::model! {
    /// The guide's classifier (logits only; the loss applies log-softmax).
    pub Mlp {
        input image: [B, 784];
        image -> fc1: Linear(128) -> Relu -> fc2: Linear(64) -> Relu -> fc3: Linear(10) => logits;
        output logits;
    }
}

/// --quick: the fraction of its first loss each loop's final loss must fall
/// below.
const FALL: f32 = 0.5;

/// --batch-size, --lr and --steps when not given.
const DEFAULTS: Defaults = Defaults::new("64", "1e-3", [300, 150]);

/// Manual SGD and Adam side by side on MNIST.
#[derive(Parser)]
struct Args {
    /// Learning rate of the hand-written SGD
    #[arg(long, default_value_t = 0.1)]
    sgd_lr: f32,
    #[command(flatten)]
    run: StepsFlags,
}

/// Mean of `losses`: single batches are noisy.
fn mean(losses: &[f32]) -> f32 {
    losses.iter().sum::<f32>() / losses.len().max(1) as f32
}

fn main() -> Result<(), common::Error> {
    let args: Args = common::flags::parse(&DEFAULTS);
    let run = args.run.load(&DEFAULTS)?;
    let steps = run.length;
    let data = &run.train;
    let backend = MlxBackend::builder().seed(run.seed).build()?;
    let initial = Mlp::init(&backend)?;
    let objective = Objective::new("logits", Loss::cross_entropy());

    // Loop 1 only asks its trainer for gradients; the optimizer it is given
    // is never used.
    let mut by_hand = Trainer::<Mlp, _>::new(&backend, &objective, Sgd::new(args.sgd_lr))?;
    let mut sgd_params = initial.clone();
    // Loop 2: Adam's moments live in the trainer, next to the compiled step.
    let mut with_adam = Trainer::<Mlp, _>::new(&backend, &objective, Adam::new(run.lr))?;
    let mut adam_params = initial;

    let lr = Array::from_f32(args.sgd_lr);
    let (mut sgd_losses, mut adam_losses) = (Vec::new(), Vec::new());
    println!("  step   manual SGD loss   Adam loss");
    for step in 0..steps {
        // Consecutive digits, wrapping around at the end of the data.
        let indices = common::order::consecutive(step, run.batch_size, data.len());
        let batch = batch::<Mlp>(data, &indices, &[784])?;
        let (inputs, labels) = &batch;

        // 1. The loss and d loss / d params, typed like the parameters
        //    (grads.fc1.weight is [128, 784]); then p <- p - lr * g for every
        //    parameter array (to_arrays and try_map share one order).
        let (loss, grads) = by_hand.loss_and_gradients(&sgd_params, inputs, labels)?;
        let mut grads = grads.to_arrays().into_iter();
        sgd_params = sgd_params.try_map(&mut |p| {
            let g = grads.next().expect("one gradient per parameter");
            p.subtract(g.multiply(&lr)?)
        })?;
        sgd_losses.push(loss.item_exact::<f32>());

        // 2. One call does all of that, with Adam's update rule.
        adam_losses.push(common::train::step(
            &mut with_adam,
            &mut adam_params,
            &batch,
        )?);

        if step % 25 == 0 || step + 1 == steps {
            println!(
                "{:6} {:17.4} {:11.4}",
                step + 1,
                sgd_losses[step],
                adam_losses[step]
            );
        }
    }

    // Means over the first and last tenth of the steps.
    let tenth = (steps / 10).max(1);
    let mut ok = true;
    for (name, losses) in [("manual SGD", &sgd_losses), ("Adam", &adam_losses)] {
        let (first, last) = (mean(&losses[..tenth]), mean(&losses[steps - tenth..]));
        let fell = last < FALL * first;
        ok &= fell;
        println!(
            "{name}: mean loss of the first {tenth} steps {first:.4}, of the last {tenth} {last:.4} (< {:.0}% of it: {})",
            100.0 * FALL,
            if fell { "yes" } else { "no" }
        );
    }
    common::report::quick_check(
        run.quick,
        ok,
        &format!(
            "both losses fall below {:.0}% of their start in {steps} steps",
            100.0 * FALL
        ),
    )
}

//! Half precision: the guide's MLP trained with f16 and bf16 activations in
//! mixed precision (f32 master weights, f32 softmax and loss), next to f32,
//! then pure f16 Adam without master weights, which blows up on its first step.
//!
//! ```sh
//! cargo run --release --example half_precision          # 300 steps per dtype
//! cargo run --example half_precision -- --quick         # CI: 150 steps, asserts >= 85% for each dtype
//! ```

mod common;

use clap::Parser;
use mithril::mlx_rs::Dtype;
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};
use mithril_datasets::Mnist;

use common::flags::Defaults;
use common::mnist::{MnistRun, StepsFlags, batch_as};

mithril::model! {
    /// The guide's classifier.
    pub Mlp {
        input image: [B, 784];
        image -> fc1: Linear(128) -> Relu -> fc2: Linear(64) -> Relu -> fc3: Linear(10) => logits;
        output logits;
    }
}

/// --quick: the test accuracy each mixed-precision run must reach.
const MIN_ACCURACY: f64 = 0.85;

/// --batch-size, --lr and --steps when not given.
const DEFAULTS: Defaults = Defaults::new("64", "1e-3", [300, 150]);

/// f32, f16 and bf16 training of the guide's MLP on MNIST.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    run: StepsFlags,
}

/// What one run gave.
struct Run {
    first_loss: f32,
    /// The highest loss after the first step.
    peak_loss: f32,
    /// Mean of the last 10 steps' losses.
    final_loss: f32,
    accuracy: f64,
    /// The parameters' dtype before and after training.
    param_dtypes: (Dtype, Dtype),
    logits_dtype: Dtype,
}

impl Run {
    fn print(&self, name: &str) {
        let (before, after) = self.param_dtypes;
        let params = if before == after {
            format!("{before:?}")
        } else {
            format!("{before:?} -> {after:?}")
        };
        println!(
            "{name:<26} {params:>18} {:>9} {:>7.3} {:>7.3} {:>7.3} {:>8.2}%",
            format!("{:?}", self.logits_dtype),
            self.first_loss,
            self.peak_loss,
            self.final_loss,
            100.0 * self.accuracy
        );
    }
}

/// Trains a fresh MLP on `backend` and tests it on 1,000 digits.
fn train_and_test(
    backend: &MlxBackend,
    flags: &MnistRun,
    steps: usize,
    train: &Mnist,
    test: &Mnist,
) -> Result<Run, common::Error> {
    // Pixels go in as the backend's dtype, as from a half-precision pipeline.
    let dtype = backend.dtype();
    let mut params = Mlp::init(backend)?;
    let initial_dtype = params.fc1.weight.dtype();
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<Mlp, _>::new(backend, &objective, Adam::new(flags.lr))?;
    let mut losses = Vec::new();
    for step in 0..steps {
        let indices = common::order::consecutive(step, flags.batch_size, train.len());
        let batch = batch_as::<Mlp>(train, &indices, &[784], dtype)?;
        losses.push(common::train::step(&mut trainer, &mut params, &batch)?);
    }
    let mut model = mithril::compile::<Mlp>(backend);
    let (inputs, _) = batch_as::<Mlp>(test, &[0], &[784], dtype)?;
    let logits = model.evaluate(&params, &inputs)?.logits;
    let tail = &losses[steps.saturating_sub(10)..];
    Ok(Run {
        first_loss: losses[0],
        peak_loss: losses[1..].iter().copied().fold(f32::NAN, f32::max),
        final_loss: tail.iter().sum::<f32>() / tail.len() as f32,
        accuracy: common::mnist::accuracy_as(&mut model, &params, test, 1000, &[784], dtype)?,
        param_dtypes: (initial_dtype, params.fc1.weight.dtype()),
        logits_dtype: logits.dtype(),
    })
}

fn main() -> Result<(), common::Error> {
    let run = common::flags::parse::<Args>(&DEFAULTS)
        .run
        .load(&DEFAULTS)?;
    let steps = run.length;
    let (train, test) = (&run.train, &run.test);
    let mut ok = true;
    println!(
        "{steps} Adam steps per run (lr {}), accuracy on 1,000 test digits",
        run.lr
    );
    println!(
        "{:<26} {:>18} {:>9} {:>7} {:>7} {:>7} {:>9}",
        "run", "params", "logits", "first", "peak", "final", "accuracy"
    );
    for dtype in [DType::F32, DType::F16, DType::BF16] {
        // Mixed precision: parameters and Adam's updates stay f32 (master
        // weights, cast to `dtype` on the way into the forward pass), and
        // softmax, log-softmax and the loss accumulate in f32.
        let backend = MlxBackend::builder()
            .seed(run.seed)
            .dtype(dtype)
            .master_weights(DType::F32)
            .compute_precision(DType::F32)
            .build()?;
        let r = train_and_test(&backend, &run, steps, train, test)?;
        match dtype {
            DType::F32 => r.print("f32 (the baseline)"),
            _ => r.print(&format!("{dtype}, f32 master weights")),
        }
        let f32 = Dtype::Float32;
        ok &= r.param_dtypes == (f32, f32)
            && r.logits_dtype == dtype.mlx()
            && r.accuracy >= MIN_ACCURACY;
    }

    // Pure f16: parameters, gradients and Adam's moments in f16.
    let backend = MlxBackend::builder()
        .seed(run.seed)
        .dtype(DType::F16)
        .build()?;
    let r = train_and_test(&backend, &run, steps, train, test)?;
    r.print("f16, no master weights");
    if !r.final_loss.is_finite() || r.peak_loss > 4.0 * r.first_loss {
        println!(
            "\npure f16 Adam is unstable. Adam steps by lr * m / (sqrt(v) + eps), v a running mean\n\
             of squared gradients. In f16, g * g underflows to 0 (the smallest positive f16 is 6e-8)\n\
             for every |g| below 2.4e-4, most of this model's gradients. Where v = 0, the first update\n\
             is lr * 0.1 * g / eps = 1e4 * g instead of ~lr: weights jump by ~1 and the loss shoots\n\
             up to the peak above. (mlx-rs's Adam keeps its constants as f32 arrays, so that update\n\
             also turns the parameters into f32; training then slowly recovers from the wrecked\n\
             weights.) With f32 master weights the gradients reach Adam as f32, so squares, moments\n\
             and updates are f32; only the forward pass runs in half precision."
        );
    } else {
        println!(
            "\npure f16 Adam trained stably this time (peak loss {:.3}).",
            r.peak_loss
        );
    }

    common::report::quick_check(
        run.quick,
        ok,
        &format!(
            "f32/f16/bf16 with f32 master weights keep f32 parameters, give logits in their dtype, and reach >= {:.0}%",
            100.0 * MIN_ACCURACY
        ),
    )
}

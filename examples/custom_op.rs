//! A custom activation through the DSL's `Lambda`: swish (x * sigmoid(x)),
//! written as a plain Rust function over MLX arrays, used in an MLP, checked
//! against its analytic derivative (MLX differentiates it like any built-in
//! layer) and trained on MNIST.
//!
//! ```sh
//! cargo run --release --example custom_op              # 3 epochs on 10,000 digits
//! cargo run --example custom_op -- --quick             # CI: 2 epochs, asserts >= 88% on 2,000 test digits
//! ```

mod common;

use mithril::mlx_rs::{error::Exception, ops};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::tensor::to_vec;
use mithril::train::{Loss, Objective, Trainer};

use common::flags::Defaults;
use common::mnist::{EpochsFlags, accuracy};

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
const QUICK: (usize, f64) = (2_000, 0.88);

/// What `--help` says the example does.
const ABOUT: &str = "Train an MLP with a custom swish activation on MNIST.";

/// --batch-size, --lr and --epochs when not given.
const DEFAULTS: Defaults = Defaults::new("64", "1e-3", [3, 2]);

fn main() -> Result<(), common::Error> {
    let flags: EpochsFlags = common::flags::parse_flags("custom_op", ABOUT, &DEFAULTS);
    let run = flags.load(&DEFAULTS)?;
    let epochs = run.length;
    let backend = MlxBackend::builder().seed(run.seed).build()?;
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

    let (train, test) = (&run.train, &run.test);
    let (n_train, n_test) = (train.len(), if run.quick { QUICK.0 } else { test.len() });
    let mut params = SwishMlp::init(&backend)?;
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<SwishMlp, _>::new(&backend, &objective, Adam::new(run.lr))?;
    let mut model = mithril::compile::<SwishMlp>(&backend);
    let mut test_accuracy = accuracy(&mut model, &params, test, n_test, &[784])?;
    println!("untrained: test accuracy {:.2}%", 100.0 * test_accuracy);
    // The digits in their stored order, every epoch.
    let order = common::order::first(n_train);
    for epoch in 1..=epochs {
        let mean = common::train::epoch(&mut trainer, &mut params, &run, &order, &[784])?;
        test_accuracy = accuracy(&mut model, &params, test, n_test, &[784])?;
        println!(
            "epoch {epoch}/{epochs}: mean loss {mean:.4}, test accuracy {:.2}%",
            100.0 * test_accuracy
        );
    }

    common::report::quick_check(
        run.quick,
        test_accuracy >= QUICK.1,
        &format!(
            "swish gradient within 1e-5 of the analytic one (max error {worst:.1e}); test accuracy {:.2}% on {n_test} digits after {epochs} epoch(s) on {n_train} >= {:.0}%",
            100.0 * test_accuracy,
            100.0 * QUICK.1
        ),
    )
}

//! The guide's classifier: an MLP 784-128-64-10 trained on MNIST with Adam,
//! then its accuracy on the official test digits.
//!
//! ```sh
//! cargo run --release --example classifier               # 5 epochs on 10,000 digits
//! cargo run --example classifier -- --quick              # CI: 2 epochs, asserts >= 88% on 2,000 test digits
//! cargo run --example classifier -- --help
//! ```

mod common;

use std::time::Instant;

use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};

use common::flags::Defaults;
use common::mnist::{EpochsFlags, accuracy, batch};

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
const QUICK: (usize, f64) = (2_000, 0.88);

/// What `--help` says the example does.
const ABOUT: &str = "Train the guide's MLP classifier on MNIST.";

/// --batch-size, --lr and --epochs when not given.
const DEFAULTS: Defaults = Defaults::new("64", "1e-3", [5, 2]);

fn main() -> Result<(), common::Error> {
    let flags: EpochsFlags = common::flags::parse_flags("classifier", ABOUT, &DEFAULTS);
    let run = flags.load(&DEFAULTS)?;
    let epochs = run.length;
    let (train, test) = (&run.train, &run.test);
    let (n_train, n_test) = (train.len(), if run.quick { QUICK.0 } else { test.len() });

    // The backend fixes dtype (f32 by default), device and seed; `init`
    // draws mlx.nn's default initialisation from that seed.
    let backend = MlxBackend::builder().seed(run.seed).build()?;
    let mut params = Classifier::init(&backend)?;
    println!("{}", Classifier::summary());

    // One compiled MLX step per batch: forward, cross-entropy on `logits`,
    // backward and Adam's update.
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<Classifier, _>::new(&backend, &objective, Adam::new(run.lr))?;
    // The compiled forward pass, for evaluation (inference mode).
    let mut model = mithril::compile::<Classifier>(&backend);

    let mut test_accuracy = 0.0;
    for epoch in 1..=epochs {
        let started = Instant::now();
        let order = common::order::shuffled(run.seed, n_train, epoch);
        let loss = common::train::epoch(&mut trainer, &mut params, &run, &order, &[784])?;
        test_accuracy = accuracy(&mut model, &params, test, n_test, &[784])?;
        println!(
            "epoch {epoch}/{epochs}: mean loss {loss:.4}, test accuracy {:.2}% ({:.1} s)",
            100.0 * test_accuracy,
            started.elapsed().as_secs_f32()
        );
    }

    // `probs` rows are distributions: the first test digit's prediction.
    let out = model.evaluate(&params, &batch::<Classifier>(test, &[0], &[784])?.0)?;
    let probs = mithril::tensor::to_vec::<f32>(&out.probs)?;
    let (digit, p) = probs
        .iter()
        .enumerate()
        .fold((0, 0.0f32), |b, (i, &p)| if p > b.1 { (i, p) } else { b });
    println!(
        "test digit 0 (a {}): predicted {digit} with probability {p:.3}",
        test.labels[0]
    );

    common::report::quick_check(
        run.quick,
        test_accuracy >= QUICK.1,
        &format!(
            "test accuracy {:.2}% on {n_test} digits after {epochs} epoch(s) on {n_train} >= {:.0}%",
            100.0 * test_accuracy,
            100.0 * QUICK.1
        ),
    )
}

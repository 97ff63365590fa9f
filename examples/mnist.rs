//! The main example: the guide's convolutional network learns to read
//! handwritten digits (MNIST), and says how well it does after each pass
//! over the training digits.
//!
//! ```sh
//! ./dev.sh example                  # 3 epochs on the repository's 10,000 training digits
//! ./dev.sh example --data DIR       # the standard MNIST files in DIR (60,000 digits)
//! ./dev.sh example --quick          # CI: 2 epochs on 2,000 digits, asserts >= 85%
//! ./dev.sh example --help
//! ```
//!
//! The whole training application (checkpoints and `--resume`, several
//! processes, a metrics CSV file, a chart, a progress bar) is the example
//! `train_mnist`.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use mithril::prelude::*;

use common::flags::{Defaults, DeviceFlags};
use common::mnist::{EpochsFlags, accuracy, batch};

mithril::model! {
    /// The guide's image model: 28x28 grey digits in (NHWC), ten logits out,
    /// one per digit. Every shape below is checked while this file compiles.
    pub ConvNet {
        input image: [B, 28, 28, 1];
        image -> conv1: Conv2d(filters = 16, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> conv2: Conv2d(filters = 32, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> Flatten -> fc1: Linear(64) -> Relu -> fc2: Linear(10) => logits;
        output logits;
    }
}

/// One digit's shape, after the batch dimension.
const IMAGE: &[i32] = &[28, 28, 1];

/// --quick: training digits, test digits, and the accuracy to reach.
const QUICK: (usize, usize, f64) = (2_000, 1_000, 0.85);

/// --batch-size, --lr and --epochs when not given.
const DEFAULTS: Defaults = Defaults::new("64", "1e-3", [3, 2]);

/// Train the guide's CNN on MNIST.
#[derive(Parser)]
#[command(name = "mnist")]
struct Args {
    #[command(flatten)]
    run: EpochsFlags,
    #[command(flatten)]
    device: DeviceFlags,
    /// Where to write mnist-params.safetensors
    #[arg(long, default_value = "out")]
    out: PathBuf,
}

fn main() -> Result<(), common::Error> {
    // The flags, and the data: labelled 28x28 digits for training and for
    // testing (the repository's copy, or the standard files of --data DIR).
    let args: Args = common::flags::parse(&DEFAULTS);
    let run = args.run.load(&DEFAULTS)?;
    let epochs = run.length;
    let (train, test) = (&run.train, &run.test);
    let (n_train, n_test) = match run.quick {
        true => (QUICK.0.min(train.len()), QUICK.1.min(test.len())),
        false => (train.len(), test.len()),
    };

    // The model: its parameters drawn from the seed, on the CPU or GPU.
    let backend = MlxBackend::builder()
        .device(args.device.device())
        .seed(run.seed)
        .build()?;
    common::report::first_run_notice(&backend);
    let mut params = ConvNet::init(&backend)?;
    println!("{}", ConvNet::summary());

    // Training: one compiled MLX step per batch (forward, cross-entropy on
    // the logits, backward, Adam's update).
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<ConvNet, _>::new(&backend, &objective, Adam::new(run.lr))?;
    // The compiled forward pass alone, to test with.
    let mut model = mithril::compile::<ConvNet>(&backend);
    println!(
        "training on {n_train} digits for {epochs} epochs, batch {}, Adam lr {}",
        run.batch_size, run.lr
    );
    let mut test_accuracy = 0.0;
    for epoch in 1..=epochs {
        let started = Instant::now();
        let order = common::order::shuffled(run.seed, n_train, epoch);
        let (mut loss_sum, mut steps) = (0.0, 0);
        for indices in order.chunks(run.batch_size) {
            let (inputs, labels) = batch::<ConvNet>(train, indices, IMAGE)?;
            let step = trainer.step(&mut params, &inputs, &labels)?;
            loss_sum += step.loss.item_exact::<f32>();
            steps += 1;
        }

        // Accuracy: the share of test digits whose largest logit is the label.
        test_accuracy = accuracy(&mut model, &params, test, n_test, IMAGE)?;
        println!(
            "epoch {epoch}/{epochs}: mean training loss {:.4}, test accuracy {:.2}% on {n_test} digits ({:.1} s)",
            loss_sum / steps as f32,
            100.0 * test_accuracy,
            started.elapsed().as_secs_f32()
        );
    }

    // Save: safetensors with mlx.nn's names, for `mithril::io::load_params`
    // (or Python MLX's `mx.load`).
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join("mnist-params.safetensors");
    mithril::io::save_params::<ConvNet>(&params, &path)?;
    println!("parameters saved to {}", path.display());

    common::report::quick_check(
        run.quick,
        test_accuracy >= QUICK.2,
        &format!(
            "test accuracy {:.2}% after {epochs} epochs on {n_train} digits >= {:.0}%",
            100.0 * test_accuracy,
            100.0 * QUICK.2
        ),
    )
}

//! The guide's convolutional network in short form: what the macro knows
//! about it (`summary()`, parameter count, shapes), one `evaluate` and one
//! `evaluate_with_gradients` on a batch, a couple of epochs of training,
//! and a saliency map from those gradients: how much the true class's logit
//! moves with each input pixel, drawn in ASCII next to the digit.
//!
//! ```sh
//! cargo run --release --example convnet                 # 2 epochs on 10,000 digits
//! cargo run --example convnet -- --quick                # CI: 1 epoch on 3,000 digits, asserts >= 80%
//! ```

use std::error::Error;

use clap::Parser;
use mithril::data::mnist::{Mnist, repo_dir};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::tensor::to_vec;
use mithril::train::{Loss, Objective, Trainer, accuracy};

mithril::model! {
    /// The guide's image model, NHWC: [B, 28, 28, 1] digits in, ten logits out.
    pub ConvNet {
        input image: [B, 28, 28, 1];
        image -> conv1: Conv2d(filters = 16, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> conv2: Conv2d(filters = 32, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> Flatten -> fc1: Linear(64) -> Relu -> fc2: Linear(10) => logits;
        output logits;
    }
}

/// --quick: training digits, test digits and the accuracy it must reach.
const QUICK: (usize, usize, f32) = (3_000, 1_000, 0.80);

/// The guide's CNN on MNIST: summary, evaluate, gradients, training.
#[derive(Parser)]
struct Args {
    /// Passes over the training digits [default: 2, or 1 with --quick]
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
    /// CI's short run: fewer digits, and fail unless the accuracy is reached
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

fn batch(data: &Mnist, indices: &[usize]) -> (ConvNetInputs, Array) {
    let n = indices.len() as i32;
    let image = Array::from_slice(&data.batch_pixels(indices), &[n, 28, 28, 1]);
    (
        ConvNetInputs { image },
        Array::from_slice(&data.batch_labels(indices), &[n]),
    )
}

/// `evaluate_with_gradients` on the first `n` test digits: the cotangent
/// one-hot on each label makes the input gradient d logit[true class] / d
/// pixel. Draws the first digit and that gradient's magnitude side by side.
fn saliency(
    model: &mut mithril::CompiledModel<ConvNet>,
    params: &ConvNetParams,
    data: &Mnist,
    n: usize,
) -> Result<(), Box<dyn Error>> {
    let (inputs, labels) = batch(data, &(0..n).collect::<Vec<_>>());
    let mut one_hot = vec![0.0f32; n * 10];
    for (i, &label) in data.labels[..n].iter().enumerate() {
        one_hot[i * 10 + label as usize] = 1.0;
    }
    let cotangent = Array::from_slice(&one_hot, &[n as i32, 10]);
    let (out, grads) = model.evaluate_with_gradients(params, &inputs, &[("logits", cotangent)])?;
    println!(
        "evaluate_with_gradients on {n} digits: logits {:?}, gradients for the image {:?} and for conv1.weight {:?}; accuracy {:.0}%",
        out.logits.shape(),
        grads.inputs.image.shape(),
        grads.params.conv1.weight.shape(),
        100.0 * accuracy(&out.logits, &labels)?
    );
    let grad: Vec<f32> = to_vec::<f32>(&grads.inputs.image.abs()?)?;
    let max = grad[..784].iter().copied().fold(1e-12, f32::max);
    let shade = |v: f32| b" .:-=+*#%@"[((v * 9.0).round() as usize).min(9)] as char;
    println!(
        "  {:<28}   |d logit[{}] / d pixel|",
        "test digit 0", data.labels[0]
    );
    for row in 0..28 {
        let digit: String = (0..28)
            .map(|c| shade(f32::from(data.image(0)[row * 28 + c]) / 255.0))
            .collect();
        let heat: String = (0..28).map(|c| shade(grad[row * 28 + c] / max)).collect();
        println!("  {digit}   {heat}");
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let train = Mnist::load_train_10k(repo_dir())?;
    let test = Mnist::load_test(repo_dir())?;
    let (n_train, n_test) = if args.quick {
        (QUICK.0, QUICK.1)
    } else {
        (train.len(), test.len())
    };
    let epochs = args.epochs.unwrap_or(if args.quick { 1 } else { 2 });

    // Everything the macro inferred while the example compiled.
    println!("{}", ConvNet::summary());
    println!(
        "inputs {:?}, outputs {:?}, {} parameters",
        ConvNet::INPUT_SHAPES,
        ConvNet::OUTPUT_SHAPES,
        ConvNet::PARAMETER_COUNT
    );

    let backend = MlxBackend::builder().seed(args.seed).build()?;
    let mut params = ConvNet::init(&backend)?;
    let mut model = mithril::compile::<ConvNet>(&backend);

    // `evaluate` on a batch: B = 8 binds the symbolic batch dimension.
    let (inputs, labels) = batch(&test, &(0..8).collect::<Vec<_>>());
    let logits = model.evaluate(&params, &inputs)?.logits;
    println!(
        "evaluate on 8 digits: logits {:?}, accuracy untrained {:.0}%",
        logits.shape(),
        100.0 * accuracy(&logits, &labels)?
    );

    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<ConvNet, _>::new(&backend, &objective, Adam::new(args.lr))?;
    let test_indices: Vec<usize> = (0..n_test).collect();
    let mut test_accuracy = 0.0;
    for epoch in 1..=epochs {
        let mut last_loss = 0.0;
        for indices in (0..n_train).collect::<Vec<_>>().chunks(args.batch_size) {
            let (inputs, labels) = batch(&train, indices);
            last_loss = trainer
                .step(&mut params, &inputs, &labels)?
                .loss
                .item_exact::<f32>();
        }
        // Evaluate in chunks of 250: large conv batches fall out of cache.
        let mut correct = 0.0;
        for chunk in test_indices.chunks(250) {
            let (inputs, labels) = batch(&test, chunk);
            correct +=
                accuracy(&model.evaluate(&params, &inputs)?.logits, &labels)? * chunk.len() as f32;
        }
        test_accuracy = correct / n_test as f32;
        println!(
            "epoch {epoch}/{epochs}: last batch loss {last_loss:.4}, test accuracy {:.2}%",
            100.0 * test_accuracy
        );
    }
    saliency(&mut model, &params, &test, 8)?;

    if args.quick {
        let ok = test_accuracy >= QUICK.2;
        println!(
            "quick check: test accuracy {:.2}% on {n_test} digits after {epochs} epoch(s) on {n_train} >= {:.0}%: {}",
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

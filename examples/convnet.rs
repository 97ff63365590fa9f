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

mod common;
// The guide's CNN, as the main example (`mnist.rs`) defines it.
#[path = "common/convnet.rs"]
mod convnet;

use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::tensor::to_vec;
use mithril::train::{Loss, Objective, Trainer, accuracy};
use mithril_datasets::Mnist;

use common::flags::Defaults;
use common::mnist::{EpochsFlags, batch};
use convnet::{ConvNet, ConvNetParams, IMAGE};

/// --quick: training digits, test digits and the accuracy it must reach.
const QUICK: (usize, usize, f64) = (3_000, 1_000, 0.80);

/// What `--help` says the example does.
const ABOUT: &str = "The guide's CNN on MNIST: summary, evaluate, gradients, training.";

/// --batch-size, --lr and --epochs when not given.
const DEFAULTS: Defaults = Defaults::new("64", "1e-3", [2, 1]);

/// `evaluate_with_gradients` on the first `n` test digits: the cotangent
/// one-hot on each label makes the input gradient d logit[true class] / d
/// pixel. Draws the first digit and that gradient's magnitude side by side.
fn saliency(
    model: &mut mithril::CompiledModel<ConvNet>,
    params: &ConvNetParams,
    data: &Mnist,
    n: usize,
) -> Result<(), common::Error> {
    let (inputs, labels) = batch::<ConvNet>(data, &common::order::first(n), IMAGE)?;
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

fn main() -> Result<(), common::Error> {
    let flags: EpochsFlags = common::flags::parse_flags("convnet", ABOUT, &DEFAULTS);
    let run = flags.load(&DEFAULTS)?;
    let epochs = run.length;
    let (train, test) = (&run.train, &run.test);
    let (n_train, n_test) = match run.quick {
        true => (QUICK.0, QUICK.1),
        false => (train.len(), test.len()),
    };

    // Everything the macro inferred while the example compiled.
    println!("{}", ConvNet::summary());
    println!(
        "inputs {:?}, outputs {:?}, {} parameters",
        ConvNet::INPUT_SHAPES,
        ConvNet::OUTPUT_SHAPES,
        ConvNet::PARAMETER_COUNT
    );

    let backend = MlxBackend::builder().seed(run.seed).build()?;
    let mut params = ConvNet::init(&backend)?;
    let mut model = mithril::compile::<ConvNet>(&backend);

    // `evaluate` on a batch: B = 8 binds the symbolic batch dimension.
    let (inputs, labels) = batch::<ConvNet>(test, &common::order::first(8), IMAGE)?;
    let logits = model.evaluate(&params, &inputs)?.logits;
    println!(
        "evaluate on 8 digits: logits {:?}, accuracy untrained {:.0}%",
        logits.shape(),
        100.0 * accuracy(&logits, &labels)?
    );

    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<ConvNet, _>::new(&backend, &objective, Adam::new(run.lr))?;
    let order = common::order::first(n_train);
    let mut test_accuracy = 0.0;
    for epoch in 1..=epochs {
        let loss = common::train::epoch(&mut trainer, &mut params, &run, &order, IMAGE)?;
        test_accuracy = common::mnist::accuracy(&mut model, &params, test, n_test, IMAGE)?;
        println!(
            "epoch {epoch}/{epochs}: mean loss {loss:.4}, test accuracy {:.2}%",
            100.0 * test_accuracy
        );
    }
    saliency(&mut model, &params, test, 8)?;

    common::report::quick_check(
        run.quick,
        test_accuracy >= QUICK.2,
        &format!(
            "test accuracy {:.2}% on {n_test} digits after {epochs} epoch(s) on {n_train} >= {:.0}%",
            100.0 * test_accuracy,
            100.0 * QUICK.2
        ),
    )
}

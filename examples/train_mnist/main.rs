//! The training application around the main example's model: trains the
//! guide's convolutional network on MNIST with a progress bar, reports test
//! accuracy after every epoch, writes a metrics CSV file and a chart, and
//! checkpoints, resumes and runs on several processes.
//!
//! ```sh
//! ./dev.sh train                # 5 epochs on the 10,000 training digits
//! ./dev.sh train --quick        # CI's check: 2 epochs on 2,000 digits, >= 85% on 1,000 test digits
//! ./dev.sh train --checkpoint-every 100 --out runs/a   # a checkpoint of the whole run every 100 steps
//! ./dev.sh train --resume runs/a                       # after a crash: continue it, to the same result
//! ./dev.sh train --help
//! ```
//!
//! (`./dev.sh train ARGS` is `cargo run --release --example train_mnist --
//! ARGS`, on MLX's CUDA build with `--gpu`.)
//!
//! The model is NHWC: `[B, 28, 28, 1]` images in, ten logits out. Training
//! uses Adam on softmax cross-entropy, one compiled MLX step per batch
//! (`mithril::train::Trainer`); evaluation uses the compiled model
//! (`mithril::compile`). The data are the repository's copy of MNIST
//! (`data/mnist/`): 10,000 training digits and the 10,000 official test
//! digits; `--data DIR` reads the standard MNIST files (60,000 training
//! digits) instead. Metrics go to `OUT/mnist-metrics.csv`, a chart to
//! `OUT/mnist-training.png` and the final parameters to
//! `OUT/mnist-params.safetensors`.
//!
//! With `--checkpoint-every N`, `OUT/mnist-checkpoint.safetensors` holds the
//! whole run (parameters, Adam's moments, the random key, the epoch and
//! batch, the flags, the metrics so far), rewritten atomically every N steps
//! and at the end. `--resume OUT` continues such a run from there with the
//! flags it was started with (giving one again is allowed if its value is
//! the same; `--lr` may be changed deliberately, say after a divergence) and
//! ends with the same parameters and losses, bit for bit, as a run never
//! interrupted. Steps are checked for NaN and infinity
//! (`Trainer::stop_on_non_finite`): a diverging run stops, naming the step
//! and what went non-finite, with its last good checkpoint untouched.
//!
//! Data-parallel on several processes (docs/distributed.md):
//!
//! ```sh
//! cargo mithril launch -n 2 -- cargo run --release --example train_mnist -- --epochs 1
//! ```
//!
//! Each rank trains on its half of every batch (`--batch-size` is the
//! batch of all ranks together, so the run does what one process would);
//! gradients are averaged inside the compiled step; rank 0 alone prints and
//! writes files; the last line checks that every rank ends with the same
//! parameters.

//!
//! The files: `flags.rs` (the flags, and those a resumed run goes on with),
//! `checkpoint.rs` (checkpoints and resuming), `metrics.rs` (the CSV file,
//! the table), `chart.rs` (the PNG chart), `run.rs` (the training loop),
//! `failure.rs` (errors and exit codes).

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/convnet.rs"]
mod convnet;

mod chart;
mod checkpoint;
mod failure;
mod flags;
mod metrics;
mod run;

use std::process::ExitCode;

pub use convnet::{ConvNet, ConvNetParams};

fn main() -> ExitCode {
    let command = common::flags::command::<flags::Args>(&flags::DEFAULTS)
        .mut_arg("batch_size", |a| {
            a.help("Digits per training step (of all ranks together, when launched on several)")
        });
    let (args, matches) = common::flags::parse_matches::<flags::Args>(command);
    match run::run(&args, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

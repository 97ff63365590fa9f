//! A GPT-2-small-class training step, hand-written against mlx-rs: tokens/s
//! of a full step (forward, cross-entropy, backward, AdamW), MFU and peak
//! memory, one markdown row per variant (docs/benchmarks.md). The PyTorch
//! rows come from `scripts/gpu/gpt_torch.py`, in the same format;
//! `scripts/gpu/gpt_run.sh` runs everything on the GPU machine.
//!
//! ```sh
//! cargo bench --bench gpt -- --size gpt2-small --variant mlx,mlx-forward
//! cargo bench --bench gpt -- --size tiny --steps 40     # on the CPU
//! cargo bench --bench gpt -- --variant dsl --checkpoint  # blocks recomputed
//! cargo bench --bench gpt -- --list                     # the variants
//! cargo bench --bench gpt -- --size small --variant dsl,mlx --host-time   # host time until queued
//! cargo test --bench gpt                                # the check (below)
//! ```
//!
//! The model: GPT-2 (pre-norm blocks, GELU with the tanh approximation,
//! final LayerNorm, token embedding tied to the LM head), f32 master
//! weights cast to bf16 inside the step (gradients flow back to f32),
//! AdamW; the step is one `compile_with_state` closure over the parameters,
//! AdamW's moments and hyperparameters as explicit state. `--host-time`
//! adds a table of each variant's host time until its step is queued, with
//! the phases of `Trainer::step` for the DSL variants.
//!
//! `--check` (also what runs with no arguments, so `cargo test --bench gpt`
//! runs it) checks the model on the CPU at the tiny size: one step's loss
//! and gradients against PyTorch's (`tests/fixtures/gpt/`, made by
//! `scripts/fixtures/make_gpt_fixture.py`), the first loss against
//! ln(vocab), the loss falling over training, and every variant's step.

mod check;
mod dsl;
mod kernels;
mod measure;
mod model;
mod variants;

use std::error::Error;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use mithril::mlx_rs;

use measure::{HEADER, HOST_HEADER, Run, formula, host_row, measure, row};
use model::Config;
use variants::{AdamWSettings, Variant};

/// Model sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Size {
    /// 12 layers, d 768, 12 heads, vocab 50,304, context 1,024 (batch 16).
    Gpt2Small,
    /// 4 layers, d 256, 4 heads, vocab 50,304, context 256 (batch 8).
    Small,
    /// 2 layers, d 64, 2 heads, vocab 512, context 64 (batch 4): the CPU smoke size.
    Tiny,
}

impl Size {
    fn name(self) -> &'static str {
        match self {
            Size::Gpt2Small => "gpt2-small",
            Size::Small => "small",
            Size::Tiny => "tiny",
        }
    }

    fn config(self) -> Config {
        match self {
            Size::Gpt2Small => Config::GPT2_SMALL,
            Size::Small => Config::SMALL,
            Size::Tiny => Config::TINY,
        }
    }

    /// Default batch, warm-up steps and timed steps.
    fn defaults(self) -> (i32, usize, usize) {
        match self {
            Size::Gpt2Small => (16, 5, 20),
            Size::Small => (8, 10, 50),
            Size::Tiny => (4, 3, 20),
        }
    }
}

/// Where MLX runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DeviceArg {
    /// The GPU if the loaded MLX has one, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// The GPU (an error without one).
    Gpu,
}

#[derive(Parser, Debug)]
#[command(about = "GPT-2-class training-step benchmark (hand-written mlx-rs)")]
struct Args {
    /// Model size [default: gpt2-small on a GPU, tiny on the CPU].
    #[arg(long, value_enum, env = "GPT_SIZE")]
    size: Option<Size>,
    /// Sequences per step [default: 16, 8, 4 by size].
    #[arg(long, env = "GPT_BATCH")]
    batch: Option<i32>,
    /// Tokens per sequence [default: the size's context].
    #[arg(long, env = "GPT_SEQ")]
    seq: Option<i32>,
    /// Timed steps [default: 20, 50, 20 by size].
    #[arg(long, env = "GPT_STEPS")]
    steps: Option<usize>,
    /// Untimed warm-up steps [default: 5, 10, 3 by size].
    #[arg(long, env = "GPT_WARMUP")]
    warmup: Option<usize>,
    /// Variants to run, comma-separated (`--list` names them).
    #[arg(
        long = "variant",
        value_delimiter = ',',
        default_value = "mlx",
        env = "GPT_VARIANTS"
    )]
    variants: Vec<String>,
    /// Also time the steps issued back to back (one sync at the end): an extra row each.
    #[arg(long, env = "GPT_PIPELINED", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pipelined: bool,
    /// AdamW learning rate.
    #[arg(long, default_value_t = 6e-4)]
    lr: f32,
    /// AdamW weight decay (on every parameter).
    #[arg(long, default_value_t = 0.1)]
    weight_decay: f32,
    /// Seed of the weights and the tokens.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where MLX runs.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceArg,
    /// Dense bf16 peak for MFU, TFLOP/s (the H200's by default).
    #[arg(long, default_value_t = 989.0)]
    peak_tflops: f64,
    /// Rows only: no runtime line, formula or table header.
    #[arg(long)]
    no_header: bool,
    /// Print the size's FLOP formula and the table header, run nothing.
    #[arg(long)]
    formula: bool,
    /// After the table, on stderr, a table of each variant's host time until
    /// the step is queued, and for the DSL variants `Trainer::step`'s phases
    /// (prepare, compiled call, queue, finish), medians in ms.
    #[arg(long, env = "GPT_HOST_TIME", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    host_time: bool,
    /// List the variants and exit.
    #[arg(long)]
    list: bool,
    /// Time the step's operations one by one at GPT-2 small's shapes
    /// (matrix products, attention, layer norm, cross-entropy, AdamW).
    #[arg(long)]
    kernels: bool,
    /// Recompute the blocks in the backward pass (the zoo's
    /// `Gpt2Checkpointed`): less memory for one more forward of the blocks.
    /// The dsl variants only; their rows are named `<variant>+checkpoint`.
    #[arg(long)]
    checkpoint: bool,
    /// Check the model on the CPU at the tiny size (see the module docs).
    #[arg(long)]
    check: bool,
    /// The PyTorch fixture `--check` compares with.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gpt/tiny_torch.safetensors"))]
    fixture: PathBuf,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() {
    // `cargo test --bench gpt` runs this with no arguments: the check.
    let args = if std::env::args_os().len() == 1 {
        Args::parse_from(["gpt", "--check"])
    } else {
        Args::parse()
    };
    if let Err(e) = run(args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), Box<dyn Error>> {
    if args.list {
        for (name, variant) in Variant::ALL {
            println!("{name}\t{}", variant.describe());
        }
        return Ok(());
    }
    let variants = args
        .variants
        .iter()
        .map(|name| {
            let variant = Variant::named(name).ok_or_else(|| {
                let known: Vec<&str> = Variant::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "--variant: unknown variant `{name}`; expected one of {}",
                    known.join(", ")
                )
            })?;
            match args.checkpoint {
                false => Ok((name.clone(), variant)),
                true => variant
                    .checkpointed()
                    .map(|v| (format!("{name}+checkpoint"), v))
                    .ok_or_else(|| {
                        format!(
                            "--checkpoint: variant `{name}` is the hand-written model; --checkpoint applies to the dsl variants (dsl, dsl-f32)"
                        )
                    }),
            }
        })
        .collect::<Result<Vec<_>, String>>()?;
    let adamw = AdamWSettings {
        lr: args.lr,
        weight_decay: args.weight_decay,
    };
    if args.check {
        return check::run(&args.fixture, adamw);
    }

    let gpu = mithril::gpu_available();
    let device = match args.device {
        DeviceArg::Gpu if !gpu => {
            return Err(format!(
                "--device gpu: the loaded MLX ({}) has no GPU",
                mithril::runtime_info()
            )
            .into());
        }
        DeviceArg::Gpu => mlx_rs::Device::gpu(),
        DeviceArg::Auto if gpu => mlx_rs::Device::gpu(),
        DeviceArg::Auto | DeviceArg::Cpu => mlx_rs::Device::cpu(),
    };
    mlx_rs::Device::set_default(&device);
    if args.kernels {
        let shapes = match args.size {
            Some(Size::Tiny) => kernels::Shapes::TINY,
            _ => kernels::Shapes::GPT2_SMALL,
        };
        return Ok(kernels::run(shapes)?);
    }
    let size = args
        .size
        .unwrap_or(if gpu { Size::Gpt2Small } else { Size::Tiny });
    let config = size.config();
    let (batch, warmup, steps) = size.defaults();
    let run = Run {
        size: size.name().to_string(),
        config,
        batch: args.batch.unwrap_or(batch),
        seq: args.seq.unwrap_or(config.context),
        warmup: args.warmup.unwrap_or(warmup),
        steps: args.steps.unwrap_or(steps),
        pipelined: args.pipelined,
        seed: args.seed,
        adamw,
        peak_tflops: args.peak_tflops,
    };
    if run.batch < 1 {
        return Err(format!("--batch: expected at least 1, found {}", run.batch).into());
    }
    if run.seq < 1 || run.seq > config.context {
        return Err(format!(
            "--seq: expected 1 to {} (the {} context), found {}",
            config.context, run.size, run.seq
        )
        .into());
    }
    if run.steps < 1 {
        return Err("--steps: expected at least 1, found 0".into());
    }
    if !(run.peak_tflops.is_finite() && run.peak_tflops > 0.0) {
        return Err(format!(
            "--peak-tflops: expected a positive number, found {}",
            run.peak_tflops
        )
        .into());
    }

    if args.formula || !args.no_header {
        println!("{}; {device:?}", mithril::runtime_info());
        println!("{}\n\n{HEADER}", formula(&run));
        if args.formula {
            return Ok(());
        }
    }
    let mut failed = Vec::new();
    let mut host_rows = Vec::new();
    for (name, variant) in variants {
        match measure(&variant, &run) {
            Ok(m) => {
                eprintln!(
                    "{name} at {}: issuing a step takes {:.3} ms (median) of its {:.3} ms",
                    run.size, m.host_ms, m.median_ms
                );
                host_rows.push(host_row(&name, &run, &m));
                let pass = variant.pass();
                println!(
                    "{}",
                    row(
                        &name,
                        pass,
                        &run,
                        m.median_ms,
                        Some(m.peak_bytes),
                        &m.losses
                    )
                );
                if let Some((ms, last)) = m.pipelined {
                    let losses = [m.losses[0], last];
                    println!(
                        "{}",
                        row(
                            &format!("{name} (pipelined)"),
                            pass,
                            &run,
                            ms,
                            None,
                            &losses
                        )
                    );
                }
            }
            Err(e) => {
                eprintln!("{name} at {}: {e}", run.size);
                failed.push(name);
            }
        }
    }
    if args.host_time {
        // On stderr, beside the per-variant lines: the table on stdout keeps
        // one format (gpt_run.sh collects its rows).
        eprintln!(
            "\nHost time of a step (ms, medians): until queued; for Trainer::step its phases\n\n{HOST_HEADER}"
        );
        for line in host_rows {
            eprintln!("{line}");
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("failed: {}", failed.join(", ")).into())
    }
}

//! A small character-level transformer language model trained on the
//! opening of Shakespeare's *Coriolanus* (`data/text/`), then writing its own:
//! each new character is sampled from the model's prediction for the last
//! position and fed back in, with a KV cache (`mithril::decode`), so each
//! step reads one character rather than the whole window.
//!
//! ```sh
//! cargo run --release --example char_lm                 # 1,500 steps, then 400 characters
//! cargo run --example char_lm -- --quick                # CI: 120 steps, asserts held-out loss < 2.9
//! cargo run --release --example char_lm -- --temperature 0 --prompt "MARCIUS:"
//! ```

mod common;

use std::io::Write;
use std::time::Instant;

use clap::Parser;
use mithril::decode::{Decoder, GenerationConfig, Sampling};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Reduction, Trainer, loss_value};

use common::flags::{Defaults, Training, at_least_one};

mithril::model! {
    /// The model's learned positions: the longest sequence it reads.
    const CONTEXT: usize = 64;

    /// A pre-norm transformer block of width 64 with 4 causal heads.
    pub Block {
        input x: [B, T, 64];
        x -> ln1: LayerNorm -> attn: MultiHeadAttention(64, 4, causal = true) => a;
        Add(x, a) => h;
        h -> ln2: LayerNorm -> fc1: Linear(256) -> Gelu -> fc2: Linear(64) => m;
        Add(h, m) => y;
        output y;
    }

    /// Next-character logits (over the 128 ASCII codes) at every position of
    /// a window of T characters; T is symbolic, so any window length up to
    /// the 64 learned positions runs.
    pub CharLm {
        input tokens: [B, T];
        input positions: [T];
        tokens -> embed: Embedding(128, 64) => token_vectors;
        positions -> pos: Embedding(CONTEXT, 64) => position_vectors;
        Add(token_vectors, position_vectors) => h;
        h -> blocks: Block * 2 -> ln: LayerNorm -> head: Linear(128) => logits;
        output logits;
    }
}

/// Characters per training window, and the context a generation restarts from.
const WINDOW: usize = 32;

/// --quick: the held-out loss (nats per character) to beat. An
/// untrained model gives ~4.9 (uniform over 128 codes), the text's character
/// frequencies alone 3.27.
const MAX_LOSS: f32 = 2.9;

/// --batch-size, --lr and --steps when not given.
const DEFAULTS: Defaults = Defaults::new("16", "3e-3", [1500, 120]);

/// Train a character transformer on Coriolanus, then generate text.
#[derive(Parser)]
struct Args {
    /// Training steps
    #[arg(long, value_parser = at_least_one)]
    steps: Option<usize>,
    /// Sampling temperature; 0 picks the most likely character every time
    #[arg(long, default_value_t = 0.8)]
    temperature: f32,
    /// Characters to generate [default: 400, or 120 with --quick]
    #[arg(long, value_parser = at_least_one)]
    length: Option<usize>,
    /// Text to start from (ASCII)
    #[arg(long, default_value = "MENENIUS:\n")]
    prompt: String,
    // --batch-size counts windows; --seed also seeds the sampling.
    #[command(flatten)]
    train: Training,
}

/// Windows of `WINDOW + 1` characters at `starts`: the model reads the first
/// `WINDOW`, and must predict the last `WINDOW` (each position's next character).
fn windows(text: &[u8], starts: &[usize]) -> (CharLmInputs, Array) {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for &s in starts {
        x.extend(text[s..s + WINDOW].iter().map(|&c| i32::from(c)));
        y.extend(text[s + 1..s + WINDOW + 1].iter().map(|&c| i32::from(c)));
    }
    let shape = [starts.len() as i32, WINDOW as i32];
    (
        inputs(Array::from_slice(&x, &shape), WINDOW),
        Array::from_slice(&y, &shape),
    )
}

/// Model inputs for `tokens` of length `t`: positions 0..t.
fn inputs(tokens: Array, t: usize) -> CharLmInputs {
    let positions: Vec<i32> = (0..t as i32).collect();
    CharLmInputs {
        tokens,
        positions: Array::from_slice(&positions, &[t as i32]),
    }
}

fn main() -> Result<(), common::Error> {
    let args: Args = common::flags::parse(&DEFAULTS);
    let Training {
        batch_size,
        lr,
        seed,
        quick,
    } = args.train;
    let steps = DEFAULTS.length(args.steps, quick);
    let length = args.length.unwrap_or(if quick { 120 } else { 400 });
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/text/coriolanus_act1.txt"
    ))?;
    if !text.iter().chain(args.prompt.as_bytes()).all(u8::is_ascii) || args.prompt.is_empty() {
        return Err("the text and the prompt must be non-empty ASCII".into());
    }
    // The last tenth is held out, to measure how well the model predicts text it has not seen.
    let (train, held_out) = text.split_at(text.len() * 9 / 10);

    let backend = MlxBackend::builder().seed(seed).build()?;
    let mut params = CharLm::init(&backend)?;
    println!(
        "CharLm: {} parameters, window {WINDOW}, batch {}",
        CharLm::PARAMETER_COUNT,
        batch_size
    );
    let mut model = mithril::compile::<CharLm>(&backend);
    let (eval_inputs, eval_targets) = windows(
        held_out,
        &(0..held_out.len() - WINDOW - 1)
            .step_by(WINDOW)
            .collect::<Vec<_>>(),
    );
    let mut held_out_loss = |params: &CharLmParams| -> Result<f32, common::Error> {
        let logits = model.evaluate(params, &eval_inputs)?.logits;
        Ok(loss_value(
            &Loss::cross_entropy(),
            Reduction::Mean,
            &logits,
            &eval_targets,
        )?
        .item_exact::<f32>())
    };
    println!(
        "held-out loss before training: {:.3} nats/char",
        held_out_loss(&params)?
    );

    // Cross-entropy over [B, T, 128] logits against [B, T] next characters.
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<CharLm, _>::new(&backend, &objective, Adam::new(lr))?;
    let mut rng = common::order::SplitMix64::new(seed);
    let mut recent = Vec::new();
    let started = Instant::now();
    for step in 1..=steps {
        let starts: Vec<usize> = (0..batch_size)
            .map(|_| rng.below(train.len() - WINDOW - 1))
            .collect();
        let batch = windows(train, &starts);
        recent.push(common::train::step(&mut trainer, &mut params, &batch)?);
        if step % 100 == 0 || step == steps {
            let mean = recent.iter().sum::<f32>() / recent.len() as f32;
            println!(
                "step {step:5}/{steps}: training loss {mean:.3}, held-out {:.3}",
                held_out_loss(&params)?
            );
            recent.clear();
        }
    }
    let final_loss = held_out_loss(&params)?;
    println!("{steps} steps in {:.1} s", started.elapsed().as_secs_f32());

    // Generation with a KV cache: a prefill of the prompt, then one compiled
    // step per character. The model has 64 learned positions; when they are
    // used up, it starts again from the last WINDOW characters.
    let mut decoder = Decoder::<CharLm>::new(&params, &backend, CONTEXT)?;
    let started = Instant::now();
    let mut sample: Vec<u32> = args.prompt.bytes().map(u32::from).collect();
    print!(
        "--- sample (temperature {}) ---\n{}",
        args.temperature, args.prompt
    );
    let mut made = 0;
    for round in 0u64.. {
        if made == length {
            break;
        }
        let prompt = &sample[sample.len().saturating_sub(WINDOW)..];
        let sampling = match args.temperature {
            t if t <= 0.0 => Sampling::Greedy,
            t => Sampling::random(t, seed + round),
        };
        let new = (length - made).min(CONTEXT - prompt.len());
        let out = decoder.generate(&[prompt], &GenerationConfig::greedy(new).sampling(sampling))?;
        for &c in &out.tokens[0] {
            print!("{}", c as u8 as char);
        }
        std::io::stdout().flush()?;
        made += out.tokens[0].len();
        sample.extend(&out.tokens[0]);
    }
    println!(
        "\n--- {length} characters in {:.1} s",
        started.elapsed().as_secs_f32()
    );

    common::report::quick_check(
        quick,
        final_loss < MAX_LOSS,
        &format!(
            "held-out loss {final_loss:.3} after {steps} steps < {:.1} nats/char",
            MAX_LOSS
        ),
    )
}

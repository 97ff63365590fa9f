//! Text from a Hugging Face GPT-2 checkpoint directory: `config.json` makes
//! the model (the zoo's GPT-2 family at the sizes it names),
//! `model.safetensors` fills it through the Hugging Face mapping, and
//! `tokenizer.json` turns the prompt into ids and the new ids into text.
//! Decoding keeps a KV cache: one compiled prefill, then one compiled step
//! per token.
//!
//! ```sh
//! cargo run --release --example generate                      # the tests' tiny checkpoint
//! cargo run --release --example generate -- --checkpoint ~/gpt2 --prompt "Hello, I'm a language model,"
//! cargo run --example generate -- --quick                     # CI: asserts the greedy tokens
//! ```
//!
//! A directory written by transformers' `save_pretrained` (with the
//! tokenizer's `save_pretrained`) works as it is; the default is the tiny
//! random-weight checkpoint the conformance tests ship, whose text is noise.

use std::error::Error;
use std::path::PathBuf;

use clap::Parser;
use mithril::decode::{GenerationConfig, Sampling};
use mithril::prelude::*;
use mithril_zoo::gpt::{Gpt2, config_from_hugging_face, hugging_face};

/// Generate text from a GPT-2 checkpoint directory.
#[derive(Parser)]
struct Args {
    /// Directory with config.json, model.safetensors and tokenizer.json
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/zoo/blocks/tests/fixtures/gpt2-tiny"))]
    checkpoint: PathBuf,
    /// Text to continue
    #[arg(long, default_value = "First Citizen: Before we proceed")]
    prompt: String,
    /// Token ids to continue instead of the text (comma-separated)
    #[arg(long, value_delimiter = ',')]
    prompt_ids: Option<Vec<u32>>,
    /// Tokens to add
    #[arg(long, default_value_t = 48)]
    max_new_tokens: usize,
    /// Sampling temperature; 0 picks the most likely token every time
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Draw only among this many most likely tokens
    #[arg(long)]
    top_k: Option<usize>,
    /// Draw only among the most likely tokens whose probabilities sum to this
    #[arg(long)]
    top_p: Option<f32>,
    /// Seed of the sampling
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// CI's check: the tiny checkpoint's greedy continuation must be its
    /// cached one, token for token
    #[arg(long)]
    quick: bool,
}

fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let args = Args::parse();
    let dir = &args.checkpoint;
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map_err(|e| format!("{}: {e}", dir.join(name).display()))
    };
    let config_json = read("config.json")?;
    let config = config_from_hugging_face(&config_json)?;
    // The checkpoint's end-of-text token, where it names one.
    let end_of_text = serde_json::from_str::<serde_json::Value>(&config_json)?
        .get("eos_token_id")
        .and_then(serde_json::Value::as_u64)
        .map(|id| id as u32);
    let gpt = Gpt2::instance(&config)?;
    let params = hugging_face().import_graph::<Gpt2>(
        gpt.graph(),
        dir.join("model.safetensors"),
        DType::F32,
    )?;
    let tokenizer = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json"))
        .map_err(|e| format!("{}: {e}", dir.join("tokenizer.json").display()))?;
    println!(
        "GPT-2 of {} parameters ({} layers of {}, context {}) from {}",
        gpt.parameter_count(),
        config.layers,
        config.d,
        config.context,
        dir.display()
    );

    let backend = MlxBackend::builder().seed(args.seed).build()?;
    let mut decoder = gpt.decoder(&params, &backend, config.context)?;
    let prompt = match &args.prompt_ids {
        Some(ids) => ids.clone(),
        None => tokenizer
            .encode(args.prompt.as_str(), false)?
            .get_ids()
            .to_vec(),
    };
    let prompt_text = tokenizer.decode(&prompt, false)?;
    let sampling = match args.temperature {
        t if t <= 0.0 => Sampling::Greedy,
        t => {
            let mut s = Sampling::random(t, args.seed);
            if let Some(k) = args.top_k {
                s = s.top_k(k);
            }
            if let Some(p) = args.top_p {
                s = s.top_p(p);
            }
            s
        }
    };
    let request = GenerationConfig::greedy(args.max_new_tokens)
        .sampling(sampling)
        .stop(end_of_text);
    let out = decoder.generate(&[&prompt], &request)?;
    let text = tokenizer.decode(&out.tokens[0], false)?;
    println!(
        "--- {} prompt tokens, {} new ---",
        prompt.len(),
        out.tokens[0].len()
    );
    println!("{prompt_text}{text}");
    println!("new token ids: {:?}", out.tokens[0]);
    println!(
        "--- prefill {:.0} tokens/s, decode {:.0} tokens/s ({} steps in {:.3} s)",
        out.prefill_tokens_per_second(),
        out.decode_tokens_per_second(),
        out.steps,
        out.decode.as_secs_f64()
    );

    if args.quick {
        // The cached tokens must be those of the whole window recomputed
        // for every token, the definition of greedy decoding.
        let mut tokens = prompt.clone();
        let mut model = gpt.compile(&backend);
        for _ in 0..out.tokens[0].len() {
            let t = tokens.len() as i32;
            let ids: Vec<i32> = tokens.iter().map(|&i| i as i32).collect();
            let positions: Vec<i32> = (0..t).collect();
            let logits = model
                .evaluate(
                    &params,
                    &mithril_zoo::gpt::Gpt2Inputs {
                        tokens: Array::from_slice(&ids, &[1, t]),
                        positions: Array::from_slice(&positions, &[1, t]),
                    },
                )?
                .logits;
            use mithril::mlx_rs::ops::indexing::{IndexOp, argmax_axis};
            let next = argmax_axis(logits.index((0, t - 1)), -1, None)?.item_cast::<u32>();
            tokens.push(next);
        }
        let ok = args.temperature <= 0.0 && tokens[prompt.len()..] == out.tokens[0];
        println!(
            "quick check: cached greedy tokens equal the recomputed window's: {}",
            if ok { "ok" } else { "FAILED" }
        );
        if !ok {
            return Err("quick check failed".into());
        }
    }
    Ok(())
}

//! Generation speed of GPT-2 small (random weights, f32) with the KV-cache
//! decoder: prompt 128 tokens, 256 new ones, greedy, batch 1 and 8; prefill
//! and decode tokens/s, the median of several runs after a warm-up.
//! `scripts/bench/decode_peers.py` measures transformers' `generate` and a
//! Python MLX decode loop (as mlx-lm writes it) the same way; the table is
//! in docs/benchmarks.md.
//!
//! ```sh
//! cargo bench --bench decode                            # on whatever device MLX picks
//! cargo bench --bench decode -- --batch 1 --runs 5      # one batch size
//! ```

use std::error::Error;

use clap::Parser;
use mithril::decode::{Decoder, GenerationConfig};
use mithril::prelude::*;
use mithril_zoo::gpt::Gpt2Small;

/// GPT-2 small's generation speed with mithril's KV-cache decoder.
#[derive(Parser)]
struct Args {
    /// Batch sizes to measure
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    batch: Vec<usize>,
    /// Prompt tokens per row
    #[arg(long, default_value_t = 128)]
    prompt: usize,
    /// New tokens per row
    #[arg(long, default_value_t = 256)]
    new: usize,
    /// Timed runs per batch size (the median is reported)
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Run the model eagerly rather than as compiled closures (a diagnostic)
    #[arg(long)]
    eager: bool,
    /// Accepted for `cargo bench`, which passes it
    #[arg(long, hide = true)]
    bench: bool,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let device = if mithril::gpu_available() {
        "gpu"
    } else {
        "cpu"
    };
    eprintln!("{}; {device}", mithril::runtime_info());
    let backend = MlxBackend::builder()
        .seed(0)
        .graph_mode(!args.eager)
        .build()?;
    let params = Gpt2Small::init(&backend)?;
    let mut decoder = Decoder::<Gpt2Small>::new(&params, &backend, 1024)?;
    println!(
        "| implementation | device | batch | prompt | new | prefill tokens/s | decode tokens/s |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for &batch in &args.batch {
        // Deterministic prompts over the vocabulary (the weights are random).
        let prompts: Vec<Vec<u32>> = (0..batch)
            .map(|r| {
                (0..args.prompt)
                    .map(|i| ((r * 7919 + i * 104_729) % 50_257) as u32)
                    .collect()
            })
            .collect();
        let request = GenerationConfig::greedy(args.new);
        // Warm-up: traces the prefill and the step, warms MLX's kernels.
        decoder.generate(&prompts, &request)?;
        let (mut prefill, mut decode) = (Vec::new(), Vec::new());
        for _ in 0..args.runs {
            let out = decoder.generate(&prompts, &request)?;
            prefill.push(out.prefill_tokens_per_second());
            decode.push(out.decode_tokens_per_second());
        }
        println!(
            "| mithril (Decoder{}) | {device} | {batch} | {} | {} | {:.0} | {:.1} |",
            if args.eager { ", eager" } else { "" },
            args.prompt,
            args.new,
            median(prefill),
            median(decode)
        );
    }
    eprintln!("traces: {}", decoder.traces());
    Ok(())
}

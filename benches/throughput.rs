//! A compute-bound workload for the GPU table (docs/gpu.md): the deep MLP
//! (784, eight hidden Linear(1024) + Relu, 10) at batch 4096, a full
//! compiled training step (forward, cross-entropy, backward, Adam) in f32
//! and in bf16, with the achieved TFLOP/s of its matrix products.
//!
//! ```sh
//! cargo bench --bench throughput            # on whatever device MLX picks
//! ```

use std::time::Instant;

use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};

mithril::model! {
    DeepMlp {
        input x: [B, 784];
        x -> Linear(1024) -> Relu -> Linear(1024) -> Relu -> Linear(1024) -> Relu -> Linear(1024) -> Relu
          -> Linear(1024) -> Relu -> Linear(1024) -> Relu -> Linear(1024) -> Relu -> Linear(1024) -> Relu
          -> Linear(10) => logits;
        output logits;
    }
}

const BATCH: i32 = 4096;

/// Matrix-product FLOPs of one training step: 2*m*n*k forward, twice that backward.
fn step_flops() -> f64 {
    let widths = [784usize, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 10];
    let per_sample: usize = widths.windows(2).map(|w| w[0] * w[1]).sum();
    6.0 * BATCH as f64 * per_sample as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "{}; device: {}",
        mithril::runtime_info(),
        if mithril::gpu_available() {
            "GPU"
        } else {
            "CPU"
        }
    );
    let iters: usize = std::env::var("MITHRIL_BENCH_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    println!("| workload | dtype | ms / step (median) | TFLOP/s |\n| --- | --- | --- | --- |");
    for dtype in [DType::F32, DType::BF16] {
        let backend = MlxBackend::builder().seed(0).dtype(dtype).build()?;
        let mut params = DeepMlp::init(&backend)?;
        let objective = Objective::new("logits", Loss::cross_entropy());
        let mut trainer = Trainer::<DeepMlp, _>::new(&backend, &objective, Adam::new(1e-4))?;
        let inputs = DeepMlpInputs {
            x: backend.uniform(&[BATCH, 784], 0.0, 1.0)?,
        };
        let labels = Array::from_slice(&(0..BATCH).map(|i| i % 10).collect::<Vec<i32>>(), &[BATCH]);
        let mut times = Vec::new();
        for i in 0..iters + 3 {
            let start = Instant::now();
            let loss = trainer.step(&mut params, &inputs, &labels)?.loss;
            loss.eval()?;
            if i >= 3 {
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
        times.sort_by(f64::total_cmp);
        let ms = times[times.len() / 2];
        println!(
            "| deep MLP 8x1024, batch {BATCH} | {dtype} | {ms:.3} | {:.1} |",
            step_flops() / ms / 1e9
        );
    }
    Ok(())
}

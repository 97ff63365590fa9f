//! `--kernels`: the operations a GPT-2-small step is made of, each timed on
//! its own at the step's shapes (batch 16 x 1,024 tokens, d 768, 12 heads
//! of 64, vocabulary 50,304), in bf16 as the step runs them. The same table
//! from `scripts/gpu/gpt_torch.py --kernels` prices PyTorch's kernels, so
//! the rows say where MLX's own kernels account for the gap.

use std::time::Instant;

use mithril::mlx_rs::error::Exception;
use mithril::mlx_rs::fast::{self, ScaledDotProductAttentionMask};
use mithril::mlx_rs::transforms::compile::compile;
use mithril::mlx_rs::transforms::{eval, fallible_vjp as vjp};
use mithril::mlx_rs::{Array, Dtype, random};

/// The shapes: GPT-2 small's step, or a CPU-sized smoke test of the code.
#[derive(Clone, Copy)]
pub struct Shapes {
    /// Batch x sequence.
    pub batch: i32,
    pub seq: i32,
    pub vocab: i32,
    /// Parameters AdamW updates.
    pub parameters: i32,
}

impl Shapes {
    pub const GPT2_SMALL: Shapes = Shapes {
        batch: 16,
        seq: 1024,
        vocab: 50_304,
        parameters: 124_475_904,
    };
    pub const TINY: Shapes = Shapes {
        batch: 2,
        seq: 64,
        vocab: 512,
        parameters: 100_000,
    };
}

const D: i32 = 768;

fn normal(shape: &[i32], dtype: Dtype, seed: u64) -> Result<Array, Exception> {
    let key = random::key(seed)?;
    random::normal::<f32>(shape, 0.0, 0.02, &key)?.as_dtype(dtype)
}

/// Median milliseconds of `f` (evaluated each time) over 10 runs after 3.
fn time(mut f: impl FnMut() -> Result<Vec<Array>, Exception>) -> Result<f64, Exception> {
    let mut times = Vec::new();
    for i in 0..13 {
        let start = Instant::now();
        let out = f()?;
        eval(&out)?;
        if i >= 3 {
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn row(name: &str, ms: f64, flops: f64, bytes: f64) {
    let rate = if flops > 0.0 {
        format!("{:.0} TFLOP/s", flops / ms / 1e9)
    } else {
        format!("{:.0} GB/s", bytes / ms / 1e6)
    };
    println!("| mlx | {name} | {ms:.3} | {rate} |");
}

/// A matrix product `[tokens, k] @ [n, k]^T` forward, and its two backward products.
fn matmul(name: &str, tokens: i32, k: i32, n: i32) -> Result<(), Exception> {
    let x = normal(&[tokens, k], Dtype::Bfloat16, 1)?;
    let w = normal(&[n, k], Dtype::Bfloat16, 2)?;
    let flops = 2.0 * tokens as f64 * k as f64 * n as f64;
    let ms = time(|| Ok(vec![x.matmul(w.t())?]))?;
    row(
        &format!("matmul {name} [{tokens}x{k}]·[{k}x{n}]"),
        ms,
        flops,
        0.0,
    );
    let dy = normal(&[tokens, n], Dtype::Bfloat16, 3)?;
    let ms = time(|| Ok(vec![dy.matmul(&w)?, dy.t().matmul(&x)?]))?;
    row(
        &format!("matmul {name} backward (dx, dW)"),
        ms,
        2.0 * flops,
        0.0,
    );
    Ok(())
}

/// Every row, printed as a markdown table.
pub fn run(shapes: Shapes) -> Result<(), Exception> {
    let Shapes {
        batch,
        seq,
        vocab,
        parameters,
    } = shapes;
    let tokens = batch * seq;
    println!(
        "| side | operation (bf16, d 768, 12 heads of 64, batch {batch} x {seq}, vocabulary {vocab}) | ms (median) | rate |"
    );
    println!("| --- | --- | ---: | ---: |");
    matmul("qkv", tokens, D, 3 * D)?;
    matmul("attention out", tokens, D, D)?;
    matmul("mlp in", tokens, D, 4 * D)?;
    matmul("mlp out", tokens, 4 * D, D)?;
    matmul("lm head", tokens, D, vocab)?;

    // Causal attention, 12 heads of 64.
    let shape = [batch, 12, seq, 64];
    let (q, k, v) = (
        normal(&shape, Dtype::Bfloat16, 4)?,
        normal(&shape, Dtype::Bfloat16, 5)?,
        normal(&shape, Dtype::Bfloat16, 6)?,
    );
    let sdpa = |args: &[Array]| -> Result<Vec<Array>, Exception> {
        Ok(vec![fast::scaled_dot_product_attention(
            &args[0],
            &args[1],
            &args[2],
            0.125,
            ScaledDotProductAttentionMask::Causal,
            None,
        )?])
    };
    // Causal: half the score and value products, forward 2 x 2 x B H T^2 hd / 2.
    let attention_flops = 2.0 * batch as f64 * 12.0 * (seq as f64).powi(2) * 64.0;
    let args = [q.clone(), k.clone(), v.clone()];
    let ms = time(|| sdpa(&args))?;
    row(
        "attention forward (fused, causal)",
        ms,
        attention_flops,
        0.0,
    );
    let cotangent = normal(&shape, Dtype::Bfloat16, 7)?;
    let mut backward = compile(
        move |args: &[Array]| -> Result<Vec<Array>, Exception> {
            let (_, grads) = vjp(sdpa, &args[..3], &args[3..])?;
            Ok(grads)
        },
        None,
    );
    let ms = time(|| backward(&[q.clone(), k.clone(), v.clone(), cotangent.clone()]))?;
    row(
        "attention forward + backward",
        ms,
        3.5 * attention_flops,
        0.0,
    );

    // LayerNorm over [tokens, 768].
    let x = normal(&[tokens, D], Dtype::Bfloat16, 8)?;
    let (g, b) = (
        Array::ones::<f32>(&[D])?.as_dtype(Dtype::Bfloat16)?,
        Array::zeros::<f32>(&[D])?.as_dtype(Dtype::Bfloat16)?,
    );
    let bytes = 2.0 * 2.0 * tokens as f64 * D as f64;
    let ms = time(|| Ok(vec![fast::layer_norm(&x, &g, &b, 1e-5)?]))?;
    row("layer norm forward", ms, 0.0, bytes);
    let dy = normal(&[tokens, D], Dtype::Bfloat16, 9)?;
    let mut norm_backward = compile(
        |args: &[Array]| -> Result<Vec<Array>, Exception> {
            let f = |a: &[Array]| -> Result<Vec<Array>, Exception> {
                Ok(vec![fast::layer_norm(&a[0], &a[1], &a[2], 1e-5)?])
            };
            Ok(vjp(f, &args[..3], &args[3..])?.1)
        },
        None,
    );
    let ms = time(|| norm_backward(&[x.clone(), g.clone(), b.clone(), dy.clone()]))?;
    row("layer norm forward + backward", ms, 0.0, 3.0 * bytes);

    // Cross-entropy over the vocabulary, f32 (the logits cast up first).
    let logits = normal(&[tokens, vocab], Dtype::Bfloat16, 10)?;
    let targets = random::randint::<_, i32>(0, vocab, &[tokens, 1], &random::key(11)?)?;
    let mut cross_entropy = compile(
        |args: &[Array]| -> Result<Vec<Array>, Exception> {
            let targets = &args[1];
            let loss = |a: &[Array]| -> Result<Vec<Array>, Exception> {
                let l = a[0].as_dtype(Dtype::Float32)?;
                let picked = l.take_along_axis(targets, -1)?;
                Ok(vec![
                    l.logsumexp_axis(-1, true)?.subtract(picked)?.mean(None)?,
                ])
            };
            let (value, grads) = vjp(loss, &args[..1], &[Array::from_f32(1.0)])?;
            Ok(vec![value[0].clone(), grads[0].clone()])
        },
        None,
    );
    let ms = time(|| cross_entropy(&[logits.clone(), targets.clone()]))?;
    let bytes = 4.0 * 2.0 * tokens as f64 * vocab as f64;
    row("cross-entropy forward + backward (f32)", ms, 0.0, bytes);

    // AdamW's update of GPT-2 small's 124M f32 parameters, in one array
    // (a lower bound: the step updates ~150 arrays).
    let n = parameters;
    let (p, grad, m, v) = (
        normal(&[n], Dtype::Float32, 12)?,
        normal(&[n], Dtype::Float32, 13)?,
        Array::zeros::<f32>(&[n])?,
        Array::zeros::<f32>(&[n])?,
    );
    let mut adamw = compile(
        |a: &[Array]| -> Result<Vec<Array>, Exception> {
            let (p, g, m, v) = (&a[0], &a[1], &a[2], &a[3]);
            let f = |x: f32| Array::from_f32(x);
            let m = m.multiply(f(0.9))?.add(g.multiply(f(0.1))?)?;
            let v = v.multiply(f(0.95))?.add(g.square()?.multiply(f(0.05))?)?;
            let update = m.divide(v.sqrt()?.add(f(1e-8))?)?;
            let p = p
                .multiply(f(1.0 - 6e-4 * 0.1))?
                .subtract(update.multiply(f(6e-4))?)?;
            Ok(vec![p, m, v])
        },
        None,
    );
    let ms = time(|| adamw(&[p.clone(), grad.clone(), m.clone(), v.clone()]))?;
    row(
        &format!("AdamW update, {n} f32 parameters"),
        ms,
        0.0,
        7.0 * 4.0 * n as f64,
    );
    Ok(())
}

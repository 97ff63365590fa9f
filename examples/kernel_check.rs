//! The GPU check of the fused kernels (`mithril::kernel`): each kernel's
//! outputs and gradients (its custom VJP) against the MLX operations it
//! replaces, in f32 and bf16, and both timed, compiled, at GPT-2 small's
//! shapes (16 x 1,024 tokens of 768; the MLP's 3,072 for bias + GELU).
//! Prints a Markdown table; exits with status 1 if a comparison is out of
//! tolerance, 2 if the kernels cannot run here.
//!
//! ```sh
//! cargo build --release --example kernel_check       # target/release/examples/kernel_check
//! bash scripts/gpu/kernels_run.sh MLX_DIR BIN OUT_DIR  # on the GPU machine (docs/gpu.md)
//! cargo run --example kernel_check -- --allow-cpu --rows 64   # the fallbacks only, on the CPU
//! ```

use std::time::Instant;

use mithril::kernel::{Backend, Route, add_layer_norm, bias_gelu, layer_norm};
use mithril::mlx_rs::error::Exception;
use mithril::mlx_rs::transforms::compile::compile;
use mithril::mlx_rs::transforms::fallible_vjp;
use mithril::mlx_rs::{Array, Dtype, random};

/// One fused operation: its inputs' shapes (rows, and `n` for the last
/// axis) and the function of them, by route.
struct Case {
    name: &'static str,
    /// Shapes of the inputs.
    shapes: Vec<Vec<i32>>,
    run: fn(&[Array], Route) -> Result<Vec<Array>, Exception>,
}

fn cases(rows: i32, dim: i32, hidden: i32) -> Vec<Case> {
    vec![
        Case {
            name: "layer norm",
            shapes: vec![vec![rows, dim], vec![dim], vec![dim]],
            run: |i, r| Ok(vec![layer_norm(&i[0], Some(&i[1]), Some(&i[2]), 1e-5, r)?]),
        },
        Case {
            name: "residual add + layer norm",
            shapes: vec![vec![rows, dim], vec![rows, dim], vec![dim], vec![dim]],
            run: |i, r| {
                let (h, y) = add_layer_norm(&i[0], &i[1], Some(&i[2]), Some(&i[3]), 1e-5, r)?;
                Ok(vec![h, y])
            },
        },
        Case {
            name: "bias + GELU (tanh)",
            shapes: vec![vec![rows, hidden], vec![hidden]],
            run: |i, r| Ok(vec![bias_gelu(&i[0], &i[1], r)?]),
        },
    ]
}

/// max |a - b| / max |b|, over every array.
fn relative_error(a: &[Array], b: &[Array]) -> Result<f32, Exception> {
    let mut worst = 0.0f32;
    for (a, b) in a.iter().zip(b) {
        let (a, b) = (a.as_dtype(Dtype::Float32)?, b.as_dtype(Dtype::Float32)?);
        let diff = a.subtract(&b)?.abs()?.max(None)?;
        let scale = b.abs()?.max(None)?;
        diff.eval()?;
        scale.eval()?;
        worst = worst.max(diff.as_slice::<f32>()[0] / scale.as_slice::<f32>()[0].max(1e-30));
    }
    Ok(worst)
}

/// Median milliseconds of `f` on `inputs`, compiled, after warm-up.
fn time(
    f: impl FnMut(&[Array]) -> Result<Vec<Array>, Exception> + 'static,
    inputs: &[Array],
    iters: usize,
) -> Result<f64, Exception> {
    let mut compiled = compile(f, None);
    for _ in 0..3 {
        let out = compiled(inputs)?;
        mithril::mlx_rs::transforms::eval(&out)?;
    }
    let mut ms: Vec<f64> = (0..iters)
        .map(|_| {
            let start = Instant::now();
            let out = compiled(inputs)?;
            mithril::mlx_rs::transforms::eval(&out)?;
            Ok(start.elapsed().as_secs_f64() * 1e3)
        })
        .collect::<Result<_, Exception>>()?;
    ms.sort_by(f64::total_cmp);
    Ok(ms[ms.len() / 2])
}

fn flag(args: &[String], name: &str, default: i32) -> i32 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number, found `{v}`"))
        })
}

fn main() -> Result<(), Exception> {
    let args: Vec<String> = std::env::args().collect();
    let (rows, dim, hidden) = (
        flag(&args, "--rows", 16 * 1024),
        flag(&args, "--dim", 768),
        flag(&args, "--hidden", 3072),
    );
    let iters = flag(&args, "--iters", 20) as usize;
    let kernels = Backend::Cuda.runs_here();
    println!(
        "{}; CUDA kernels run here: {kernels}",
        mithril::runtime_info()
    );
    if !kernels && !args.iter().any(|a| a == "--allow-cpu") {
        eprintln!(
            "the kernels cannot run here: run with MLX's CUDA build on a GPU (docs/gpu.md), or pass --allow-cpu to check the fallbacks"
        );
        std::process::exit(2);
    }
    let route = if kernels { Route::Kernel } else { Route::Auto };
    println!();
    println!(
        "| operation | dtype | output error | gradient error | tolerance | forward ms: kernel / MLX ops | forward + backward ms: kernel / MLX ops |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    let mut failed = false;
    for case in cases(rows, dim, hidden) {
        for (dtype, tolerance) in [(Dtype::Float32, 1e-4f32), (Dtype::Bfloat16, 2e-2)] {
            let inputs: Vec<Array> = case
                .shapes
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let k = random::key(7 + i as u64)?;
                    random::normal::<f32>(s, None, None, &k)?.as_dtype(dtype)
                })
                .collect::<Result<_, Exception>>()?;
            let run = case.run;
            let outputs = run(&inputs, Route::Ops)?;
            let cotangents: Vec<Array> = outputs
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let k = random::key(100 + i as u64)?;
                    random::normal::<f32>(o.shape(), None, None, &k)?.as_dtype(dtype)
                })
                .collect::<Result<_, Exception>>()?;
            let by = move |r: Route| move |x: &[Array]| run(x, r);
            let (out_k, grad_k) = fallible_vjp(by(route), &inputs, &cotangents)?;
            let (out_o, grad_o) = fallible_vjp(by(Route::Ops), &inputs, &cotangents)?;
            let (out_err, grad_err) = (
                relative_error(&out_k, &out_o)?,
                relative_error(&grad_k, &grad_o)?,
            );
            failed |= !(out_err <= tolerance && grad_err <= tolerance);
            let cots = cotangents.clone();
            let fwd_bwd = move |r: Route| {
                let cots = cots.clone();
                move |x: &[Array]| -> Result<Vec<Array>, Exception> {
                    let (_, g) = fallible_vjp(by(r), x, &cots)?;
                    Ok(g)
                }
            };
            let t = |r: Route| -> Result<(f64, f64), Exception> {
                Ok((
                    time(by(r), &inputs, iters)?,
                    time(fwd_bwd(r), &inputs, iters)?,
                ))
            };
            let ((fk, bk), (fo, bo)) = (t(route)?, t(Route::Ops)?);
            println!(
                "| {} | {} | {out_err:.1e} | {grad_err:.1e} | {tolerance:.0e} | {fk:.3} / {fo:.3} | {bk:.3} / {bo:.3} |",
                case.name,
                if dtype == Dtype::Float32 {
                    "f32"
                } else {
                    "bf16"
                },
            );
        }
    }
    println!();
    println!(
        "Rows {rows} x {dim} ({hidden} for bias + GELU); errors are max |kernel - ops| / max |ops| over the outputs, then over the gradients of every input; medians of {iters} compiled runs."
    );
    if failed {
        eprintln!("a comparison is out of tolerance");
        std::process::exit(1);
    }
    Ok(())
}

//! f32 matmul throughput through MLX (on Linux: the wheel's libmlx.so with
//! OpenBLAS). Run with `cargo bench -p mithril-mlx --bench matmul`.
//!
//! Each size: warm-up runs, then timed runs that each build `a @ b` and
//! evaluate it; the table shows the median and the best run.

use std::time::{Duration, Instant};

use mithril_mlx::mlx_rs;
use mlx_rs::error::Exception;
use mlx_rs::{Array, ops};

/// An n x n f32 matrix with values in [-1, 1), deterministic and evaluated.
fn matrix(n: i32, seed: i32) -> Result<Array, Exception> {
    let idx = Array::arange::<_, i32>(None, n * n, None)?;
    let v = ops::remainder(
        ops::add(
            ops::multiply(idx, Array::from_int(7))?,
            Array::from_int(seed),
        )?,
        Array::from_int(23),
    )?;
    let m = ops::subtract(
        ops::divide(v.as_type::<f32>()?, Array::from_f32(11.5))?,
        Array::from_f32(1.0),
    )?
    .reshape(&[n, n])?;
    m.eval()?;
    Ok(m)
}

fn time_matmul(n: i32, warmup: usize, iters: usize) -> Result<Vec<Duration>, Exception> {
    let a = matrix(n, 1)?;
    let b = matrix(n, 5)?;
    for _ in 0..warmup {
        ops::matmul(&a, &b)?.eval()?;
    }
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        let c = ops::matmul(&a, &b)?;
        c.eval()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times)
}

fn main() -> Result<(), Exception> {
    // `cargo bench` passes `--bench`; with a filter argument, run matching sizes only.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let sizes = [(1024, 3, 30), (4096, 1, 7)];

    println!("MLX f32 matmul, n x n @ n x n (2 n^3 flops)");
    println!(
        "{:>6} {:>6} {:>11} {:>9} {:>12} {:>12}",
        "n", "iters", "median ms", "best ms", "GFLOP/s med", "GFLOP/s best"
    );
    for (n, warmup, iters) in sizes {
        if !filter.is_empty() && !filter.iter().any(|f| n.to_string().contains(f.as_str())) {
            continue;
        }
        let times = time_matmul(n, warmup, iters)?;
        let median = times[times.len() / 2].as_secs_f64();
        let best = times[0].as_secs_f64();
        let flops = 2.0 * f64::from(n).powi(3);
        println!(
            "{:>6} {:>6} {:>11.2} {:>9.2} {:>12.1} {:>12.1}",
            n,
            iters,
            median * 1e3,
            best * 1e3,
            flops / median / 1e9,
            flops / best / 1e9
        );
    }
    Ok(())
}

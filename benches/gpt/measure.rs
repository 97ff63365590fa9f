//! Timing, memory and the table: one [`Measurement`] per variant and size,
//! printed as a markdown row in the format `scripts/gpu/gpt_torch.py` shares.

use std::time::{Duration, Instant};

use mithril::mlx_rs::{self, Array, error::Exception, ops::indexing::IndexOp};
use mithril::train::StepTimes;

use crate::model::Config;
use crate::variants::{AdamWSettings, Pass, Variant};

/// What a run is: the model size, the batch, and how long to run.
#[derive(Clone, Debug)]
pub struct Run {
    /// The size's name in the table (`gpt2-small`, `small`, `tiny`).
    pub size: String,
    /// The model size.
    pub config: Config,
    /// Sequences per step.
    pub batch: i32,
    /// Tokens per sequence (at most `config.context`).
    pub seq: i32,
    /// Untimed steps first (compilation, kernel JIT, allocator warm-up).
    pub warmup: usize,
    /// Timed steps.
    pub steps: usize,
    /// Also time `steps` steps issued back to back (`async_eval`, one sync
    /// at the end), as a training loop would run them.
    pub pipelined: bool,
    /// Seed of the weights and the tokens.
    pub seed: u64,
    /// AdamW's settings.
    pub adamw: AdamWSettings,
    /// Dense bf16 peak of the device, TFLOP/s, for MFU.
    pub peak_tflops: f64,
}

/// The measured numbers of one variant.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// Median milliseconds of the timed steps, each synchronised.
    pub median_ms: f64,
    /// Median milliseconds of the same steps' host part: the time until the
    /// step is queued (for a compiled step, the arguments gathered and MLX
    /// replaying the compiled graph into lazy arrays), which a synchronised
    /// loop cannot overlap with the device's work.
    pub host_ms: f64,
    /// Medians of the phases of `Trainer::step` (`StepTimes`), for the DSL
    /// variants.
    pub phases: Option<Phases>,
    /// Mean milliseconds per step of the pipelined steps and their last
    /// loss, if timed.
    pub pipelined: Option<(f64, f32)>,
    /// Peak bytes MLX held (live arrays), from before the model was built
    /// to the end of the synchronised steps.
    pub peak_bytes: usize,
    /// Every synchronised step's loss, warm-up included.
    pub losses: Vec<f32>,
}

/// Median milliseconds of each host-side phase of `Trainer::step`
/// (`mithril::train::StepTimes`).
#[derive(Clone, Copy, Debug)]
pub struct Phases {
    /// Flattening, shape check, arguments.
    pub prepare: f64,
    /// The compiled call: MLX replaying the traced graph.
    pub call: f64,
    /// `async_eval` (on the CPU, most of the step runs in it).
    pub queue: f64,
    /// Rebuilding the parameters, bookkeeping.
    pub finish: f64,
}

/// A fixed batch of uniformly random tokens: `(tokens, targets)`, both
/// `[batch, seq]` int32, the targets the tokens shifted by one.
pub fn synthetic_batch(
    config: &Config,
    batch: i32,
    seq: i32,
    seed: u64,
) -> Result<(Array, Array), Exception> {
    let key = mlx_rs::random::key(seed ^ 0xDA7A)?;
    let all = mlx_rs::random::randint::<_, i32>(0, config.vocab, &[batch, seq + 1], &key)?;
    let tokens = all.index((.., 0..seq));
    let targets = all.index((.., 1..seq + 1));
    mlx_rs::transforms::eval([&tokens, &targets])?;
    Ok((tokens, targets))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Runs `variant`: warm-up, timed steps (each evaluated, so each timed to
/// completion), then optionally the pipelined steps.
pub fn measure(variant: &Variant, run: &Run) -> Result<Measurement, Exception> {
    let (tokens, targets) = synthetic_batch(&run.config, run.batch, run.seq, run.seed)?;
    mlx_rs::memory::clear_cache()?;
    mlx_rs::memory::reset_peak_memory()?;
    let mut runner = variant.runner(run.config, run.seed, run.adamw, &tokens, &targets)?;
    let mut losses = Vec::new();
    let (mut times, mut host_times, mut phases) = (Vec::new(), Vec::new(), Vec::new());
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for i in 0..run.warmup + run.steps {
        let start = Instant::now();
        let out = runner.step()?;
        let issued = start.elapsed();
        mlx_rs::transforms::eval(&out)?;
        let step_ms = ms(start.elapsed());
        losses.push(out[0].item_exact::<f32>());
        if i >= run.warmup {
            times.push(step_ms);
            let parts = runner.host_times();
            host_times.push(ms(parts.map_or(issued, |p| p.until_queued())));
            phases.extend(parts);
        }
    }
    let phase = |f: fn(&StepTimes) -> Duration| median(phases.iter().map(|p| ms(f(p))).collect());
    let phases = (!phases.is_empty()).then(|| Phases {
        prepare: phase(|p| p.prepare),
        call: phase(|p| p.call),
        queue: phase(|p| p.queue),
        finish: phase(|p| p.finish),
    });
    let peak_bytes = mlx_rs::memory::peak_memory()?;
    let pipelined = if run.pipelined {
        let start = Instant::now();
        let mut last = Vec::new();
        for _ in 0..run.steps {
            last = runner.step()?;
            mlx_rs::transforms::async_eval(&last)?;
        }
        mlx_rs::transforms::eval(&last)?;
        let ms = start.elapsed().as_secs_f64() * 1e3 / run.steps as f64;
        Some((ms, last[0].item_exact::<f32>()))
    } else {
        None
    };
    Ok(Measurement {
        median_ms: median(times),
        host_ms: median(host_times),
        phases,
        pipelined,
        peak_bytes,
        losses,
    })
}

/// The table's header.
pub const HEADER: &str = "| variant | size | pass | batch x seq | ms/step (median) | tokens/s | MFU | peak memory | loss (first -> last) |\n\
| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |";

/// The header of the host-time table (`--host-time`).
pub const HOST_HEADER: &str = "| variant | size | batch x seq | host ms until queued | prepare | call | queue | finish | ms/step (median) |\n\
| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |";

/// One row of the host-time table: the phases of `Trainer::step` for the
/// DSL variants, `-` for variants whose step returns lazy arrays (their
/// host time is the whole call).
pub fn host_row(name: &str, run: &Run, m: &Measurement) -> String {
    let part = |f: fn(&Phases) -> f64| {
        m.phases
            .map_or("-".to_string(), |p| format!("{:.3}", f(&p)))
    };
    format!(
        "| {name} | {} | {}x{} | {:.3} | {} | {} | {} | {} | {:.2} |",
        run.size,
        run.batch,
        run.seq,
        m.host_ms,
        part(|p| p.prepare),
        part(|p| p.call),
        part(|p| p.queue),
        part(|p| p.finish),
        m.median_ms,
    )
}

/// The FLOP formula with this size's numbers, as the table's note.
pub fn formula(run: &Run) -> String {
    let c = &run.config;
    format!(
        "{}: FLOPs per token of a training step = 6 N + 12 L T d (PaLM, appendix B) = \
         6 x {} + 12 x {} x {} x {} = {:.4e} (N: every parameter once, the tied \
         embedding / LM head included, the position embedding left out; forward rows count a \
         third of it); MFU = tokens/s x FLOPs per token / {} TFLOP/s (H200 dense bf16)",
        run.size,
        c.flop_parameters(),
        c.layers,
        run.seq,
        c.d_model,
        c.train_flops_per_token(run.seq),
        run.peak_tflops,
    )
}

/// One table row.
pub fn row(
    name: &str,
    pass: Pass,
    run: &Run,
    ms: f64,
    peak_bytes: Option<usize>,
    losses: &[f32],
) -> String {
    let tokens_per_step = run.batch as f64 * run.seq as f64;
    let tokens_per_s = tokens_per_step / (ms / 1e3);
    let flops_per_token = match pass {
        Pass::Forward => run.config.forward_flops_per_token(run.seq),
        Pass::Train | Pass::Gradients => run.config.train_flops_per_token(run.seq),
    };
    let mfu = tokens_per_s * flops_per_token / (run.peak_tflops * 1e12);
    let memory = match peak_bytes {
        Some(b) if b >= 1 << 30 => format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64),
        Some(b) => format!("{:.0} MiB", b as f64 / (1u64 << 20) as f64),
        None => "-".to_string(),
    };
    let loss = match (losses.first(), losses.last()) {
        (Some(a), Some(b)) => format!("{a:.3} -> {b:.3}"),
        _ => "-".to_string(),
    };
    format!(
        "| {name} | {} | {} | {}x{} | {ms:.2} | {tokens_per_s:.0} | {:.1} % | {memory} | {loss} |",
        run.size,
        pass.name(),
        run.batch,
        run.seq,
        100.0 * mfu,
    )
}

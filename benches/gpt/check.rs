//! `--check`: the hand-written model on the CPU at the tiny size.
//!
//! 1. One step's loss and gradients against PyTorch's on the same weights
//!    and tokens (`tests/fixtures/gpt/tiny_torch.safetensors`, made by
//!    `scripts/fixtures/make_gpt_fixture.py` with `scripts/gpu/gpt_torch.py`'s
//!    model, in f32): MLX in f32 with fused and with unfused attention to
//!    [`F32_TOL`], MLX in bf16 to [`BF16_TOL`].
//! 2. The benchmark's step (compiled, bf16) on synthetic tokens: the first
//!    loss within [`FIRST_LOSS_TOL`] of ln(vocab), and the loss falling by
//!    [`MIN_FALL`] over [`TRAIN_STEPS`] steps.
//! 3. Every variant runs two steps with a finite first loss near ln(vocab);
//!    the training variants' second loss differs from the first (the update
//!    came back through the compiled state), the others' does not, and the
//!    compiled and eager steps agree to 1e-5.

use std::collections::HashMap;
use std::error::Error;
use std::path::Path;

use mithril::mlx_rs::{self, Array, Dtype, module::ModuleParameters};

use crate::measure::{Run, measure};
use crate::model::{Attention, Config, Gpt, Numerics};
use crate::variants::{AdamWSettings, Pass, Variant, loss_and_gradients};

/// f32 against PyTorch's f32: elementwise `|mlx - torch| <= atol + rtol |torch|`.
pub const F32_TOL: Tolerance = Tolerance {
    atol: 1e-6,
    rtol: 1e-4,
};

/// bf16 compute against PyTorch's f32 (computed in f64), per array:
/// `||mlx - torch|| <= BF16_REL ||torch||` (Euclidean norms). bf16 keeps 8
/// significant bits (relative rounding 2^-9 per value); the weight gradients
/// come out within 0.6-0.8 % of PyTorch's, the bias and LayerNorm gradients
/// (sums over the batch's 256 tokens of terms that largely cancel; the key
/// bias's is exactly zero in exact arithmetic) within 1.7-2.9 %. A wrong
/// term or cast errs by tens of percent.
pub const BF16_REL: f32 = 5e-2;

/// How far the tiny model's first loss may be from ln(vocab). GPT-2's
/// initialisation gives logits of variance about d 0.02^2 = 0.026, which
/// raises the expected loss by about half that above ln(vocab); PyTorch's
/// first loss on the fixture is ln(512) + 0.032.
pub const FIRST_LOSS_TOL: f32 = 0.1;

/// Steps of the training check.
pub const TRAIN_STEPS: usize = 40;

/// How much the loss must fall over [`TRAIN_STEPS`] steps on one fixed
/// batch (nats).
pub const MIN_FALL: f32 = 1.0;

/// An elementwise tolerance.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Absolute part.
    pub atol: f32,
    /// Relative part.
    pub rtol: f32,
}

type CheckResult = Result<(), Box<dyn Error>>;

fn to_vec(a: &Array) -> Result<Vec<f32>, Box<dyn Error>> {
    Ok(a.contiguous()?.to_vec_cast::<f32>()?)
}

/// The largest `|a - b| - rtol |b|`, and the relative norm `||a - b|| / ||b||`.
fn compare(a: &Array, b: &Array, rtol: f32) -> Result<(f32, f32), Box<dyn Error>> {
    if a.shape() != b.shape() {
        return Err(format!("shape {:?}, reference {:?}", a.shape(), b.shape()).into());
    }
    let (a, b) = (to_vec(a)?, to_vec(b)?);
    if let Some(x) = a.iter().find(|x| !x.is_finite()) {
        return Err(format!("non-finite value {x}").into());
    }
    let mut worst = 0.0f32;
    let (mut diff2, mut ref2) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(&b) {
        worst = worst.max((x - y).abs() - rtol * y.abs());
        diff2 += ((x - y) as f64).powi(2);
        ref2 += (*y as f64).powi(2);
    }
    Ok((worst, (diff2.sqrt() / ref2.sqrt().max(1e-30)) as f32))
}

fn fixture(path: &Path) -> Result<HashMap<String, Array>, Box<dyn Error>> {
    Array::load_safetensors(path).map_err(|e| {
        format!(
            "fixture {}: {e} (make it with scripts/fixtures/make_gpt_fixture.py)",
            path.display()
        )
        .into()
    })
}

fn get<'a>(fx: &'a HashMap<String, Array>, key: &str) -> Result<&'a Array, Box<dyn Error>> {
    fx.get(key)
        .ok_or_else(|| format!("fixture has no `{key}`").into())
}

/// The tiny model with the fixture's weights.
fn model_from(fx: &HashMap<String, Array>) -> Result<Gpt, Box<dyn Error>> {
    let mut model = Gpt::init(Config::TINY, 0)?;
    let mut slots = model.parameters_mut().flatten();
    let in_fixture = fx.keys().filter(|k| k.starts_with("param.")).count();
    if in_fixture != slots.len() {
        return Err(format!(
            "fixture has {in_fixture} parameters, the model {}",
            slots.len()
        )
        .into());
    }
    for (key, slot) in slots.iter_mut() {
        let value = get(fx, &format!("param.{key}"))?;
        if value.shape() != slot.shape() || value.dtype() != Dtype::Float32 {
            return Err(format!(
                "`param.{key}`: expected f32 {:?}, found {:?} {:?}",
                slot.shape(),
                value.dtype(),
                value.shape()
            )
            .into());
        }
        **slot = value.clone();
    }
    drop(slots);
    Ok(model)
}

fn check_against_torch(path: &Path) -> CheckResult {
    let fx = fixture(path)?;
    let model = model_from(&fx)?;
    let (tokens, targets) = (get(&fx, "tokens")?, get(&fx, "targets")?);
    let torch_loss = get(&fx, "loss")?.item_exact::<f32>();
    let cases = [
        ("f32, fused attention", Numerics::F32, false),
        (
            "f32, unfused attention",
            Numerics {
                attention: Attention::Unfused,
                ..Numerics::F32
            },
            false,
        ),
        ("bf16, fused attention", Numerics::BF16, true),
    ];
    for (label, numerics, bf16) in cases {
        let (loss, grads) = loss_and_gradients(&mut model.clone(), tokens, targets, numerics)?;
        let loss = loss.item_exact::<f32>();
        let (mut worst, mut worst_rel, mut worst_key) = (0.0f32, 0.0f32, String::new());
        for (key, grad) in &grads {
            let reference = get(&fx, &format!("grad.{key}"))?;
            let (excess, rel) = compare(grad, reference, F32_TOL.rtol)
                .map_err(|e| format!("gradient of `{key}`: {e}"))?;
            let score = if bf16 { rel } else { excess };
            if score >= if bf16 { worst_rel } else { worst } {
                worst_key = key.to_string();
            }
            worst = worst.max(excess);
            worst_rel = worst_rel.max(rel);
        }
        println!(
            "torch check, {label}: loss {loss:.6} (torch {torch_loss:.6}, diff {:.2e}); \
             gradients: max(|d| - rtol |ref|) {worst:.2e}, max relative norm {worst_rel:.2e} (`{worst_key}`)",
            (loss - torch_loss).abs()
        );
        let ok = if bf16 {
            (loss - torch_loss).abs() <= BF16_REL * torch_loss && worst_rel <= BF16_REL
        } else {
            (loss - torch_loss).abs() <= F32_TOL.atol + F32_TOL.rtol * torch_loss
                && worst <= F32_TOL.atol
        };
        if !ok {
            return Err(format!(
                "{label}: MLX and PyTorch disagree beyond the tolerance ({})",
                if bf16 {
                    format!("relative norm {BF16_REL}")
                } else {
                    format!("atol {} + rtol {}", F32_TOL.atol, F32_TOL.rtol)
                }
            )
            .into());
        }
    }
    Ok(())
}

fn tiny_run(steps: usize, adamw: AdamWSettings) -> Run {
    Run {
        size: "tiny".into(),
        config: Config::TINY,
        batch: 4,
        seq: Config::TINY.context,
        warmup: 0,
        steps,
        pipelined: false,
        seed: 0,
        adamw,
        peak_tflops: 989.0,
    }
}

fn check_training(adamw: AdamWSettings) -> CheckResult {
    let ln_vocab = (Config::TINY.vocab as f32).ln();
    let variant = Variant::named("mlx").ok_or("no `mlx` variant")?;
    let m = measure(&variant, &tiny_run(TRAIN_STEPS, adamw))?;
    let (first, last) = (m.losses[0], m.losses[m.losses.len() - 1]);
    let shown: Vec<String> = m
        .losses
        .iter()
        .step_by(5)
        .map(|l| format!("{l:.3}"))
        .collect();
    println!(
        "training (compiled bf16 step, lr {}): ln(vocab) {ln_vocab:.3}, losses every 5 steps {}, last {last:.3}",
        adamw.lr,
        shown.join(" ")
    );
    if !first.is_finite() || (first - ln_vocab).abs() > FIRST_LOSS_TOL {
        return Err(format!(
            "first loss {first:.4}, expected ln({}) = {ln_vocab:.4} +- {FIRST_LOSS_TOL}",
            Config::TINY.vocab
        )
        .into());
    }
    if !last.is_finite() || first - last < MIN_FALL {
        return Err(format!("the loss fell from {first:.4} to {last:.4} in {TRAIN_STEPS} steps; expected at least {MIN_FALL}").into());
    }
    Ok(())
}

fn check_variants(adamw: AdamWSettings) -> CheckResult {
    let ln_vocab = (Config::TINY.vocab as f32).ln();
    let mut second_losses = Vec::new();
    for (name, variant) in Variant::ALL {
        let m =
            measure(variant, &tiny_run(2, adamw)).map_err(|e| format!("variant {name}: {e}"))?;
        let (first, second) = (m.losses[0], m.losses[1]);
        println!(
            "variant {name}: losses {:?}, {:.2} ms/step",
            m.losses, m.median_ms
        );
        if !first.is_finite() || !second.is_finite() || (first - ln_vocab).abs() > FIRST_LOSS_TOL {
            return Err(format!(
                "variant {name}: losses {first}, {second}; expected finite, the first {ln_vocab:.4} +- {FIRST_LOSS_TOL}"
            )
            .into());
        }
        // A training step must have updated the parameters (written back
        // through the compiled closure's state); the others must not.
        let updated = second != first;
        if updated != (variant.pass() == Pass::Train) {
            return Err(format!("variant {name}: losses {first} then {second}").into());
        }
        second_losses.push((*name, second));
    }
    // The compiled step and the eager one compute the same update.
    let second = |name: &str| {
        second_losses
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, l)| l)
    };
    if let (Some(compiled), Some(eager)) = (second("mlx"), second("mlx-eager"))
        && (compiled - eager).abs() > 1e-5
    {
        return Err(
            format!("after one step, compiled loss {compiled} but eager loss {eager}").into(),
        );
    }
    // Its blocks recomputed in the backward pass, the DSL's model takes the
    // same step.
    let recomputed = Variant::named("dsl-f32")
        .and_then(Variant::checkpointed)
        .ok_or("no `dsl-f32` variant")?;
    let m = measure(&recomputed, &tiny_run(2, adamw))
        .map_err(|e| format!("variant dsl-f32+checkpoint: {e}"))?;
    println!(
        "variant dsl-f32+checkpoint: losses {:?}, {:.2} ms/step",
        m.losses, m.median_ms
    );
    if let Some(plain) = second("dsl-f32")
        && (m.losses[1] - plain).abs() > 1e-6 * plain.abs()
    {
        return Err(format!(
            "after one step, dsl-f32+checkpoint's loss {} but dsl-f32's {plain}",
            m.losses[1]
        )
        .into());
    }
    // The DSL's model from the same weights takes the same step (in f32 to
    // rounding; bf16 rounds differently along the two computations).
    for (dsl, hand, tolerance) in [("dsl-f32", "mlx-f32", 1e-5), ("dsl", "mlx", 2e-2)] {
        if let (Some(d), Some(h)) = (second(dsl), second(hand))
            && (d - h).abs() > tolerance * h.abs()
        {
            return Err(format!(
                "after one step, the DSL's loss {d} but the hand-written model's {h} ({dsl} vs {hand})"
            )
            .into());
        }
    }
    Ok(())
}

/// Runs the checks on the CPU; the first failure is the error.
pub fn run(fixture: &Path, adamw: AdamWSettings) -> CheckResult {
    mlx_rs::Device::set_default(&mlx_rs::Device::cpu());
    println!("{}; checks on the CPU", mithril::runtime_info());
    check_against_torch(fixture)?;
    check_training(adamw)?;
    check_variants(adamw)?;
    println!("check passed");
    Ok(())
}

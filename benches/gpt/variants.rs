//! The benchmark's variants, each a [`StepRunner`]: the hand-written mlx-rs
//! GPT's training step (one compiled closure over explicit state), and the
//! cheap diagnostic rows derived from it.
//!
//! The DSL variant (`dsl.rs`) is the zoo's `model!` GPT trained by
//! `mithril::train::Trainer`, from the same weights.

use std::collections::HashMap;
use std::rc::Rc;

use mithril::mlx_rs::{
    Array,
    builder::Builder,
    error::{Exception, StateProjectionError},
    module::ModuleParameters,
    nn,
    optimizers::{AdamW, AdamWBuilder, Optimizer},
    transforms::compile::compile_with_state,
    utils::{StateProjection, Updatable},
};
use mithril::train::StepTimes;

use crate::model::{Attention, Config, Gpt, Numerics, loss};

/// AdamW's settings, shared with `scripts/gpu/gpt_torch.py`.
#[derive(Clone, Copy, Debug)]
pub struct AdamWSettings {
    /// Learning rate.
    pub lr: f32,
    /// Decoupled weight decay, on every parameter.
    pub weight_decay: f32,
}

/// (beta1, beta2) of GPT-2-style training (nanoGPT's).
pub const BETAS: (f32, f32) = (0.9, 0.95);
/// AdamW's epsilon.
pub const EPS: f32 = 1e-8;

/// One benchmark step, ready to run again and again.
pub trait StepRunner {
    /// Issues one step and returns everything it produced that must be
    /// evaluated for the step to be complete, the loss first.
    fn step(&mut self) -> Result<Vec<Array>, Exception>;

    /// The last step's host-side phases, for a runner whose `step` also
    /// queues the step (`Trainer::step`); `None` for one that returns it
    /// lazy, whose `step` is all host time.
    fn host_times(&self) -> Option<StepTimes> {
        None
    }
}

/// What one step of a variant computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Forward, loss, backward, AdamW update.
    Train,
    /// Forward, loss, backward; no update (prices the optimizer).
    Gradients,
    /// Forward and loss only.
    Forward,
}

impl Pass {
    /// The table's word for it.
    pub fn name(self) -> &'static str {
        match self {
            Pass::Train => "train",
            Pass::Gradients => "fwd+bwd",
            Pass::Forward => "forward",
        }
    }
}

/// A variant of the hand-written model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hand {
    /// What a step computes.
    pub pass: Pass,
    /// One compiled closure (`compile_with_state`), or eager.
    pub compiled: bool,
    /// Compute precision and attention kernel.
    pub numerics: Numerics,
}

/// A row of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The model hand-written against mlx-rs.
    Hand(Hand),
    /// The zoo's `model!` GPT through `Trainer` (training, compiled), in
    /// this precision (fused attention).
    Dsl {
        /// Compute precision.
        numerics: Numerics,
        /// Whether its blocks are recomputed in the backward pass (the
        /// zoo's `Gpt2Checkpointed`; `--checkpoint`).
        checkpoint: bool,
    },
}

const fn dsl(numerics: Numerics) -> Variant {
    Variant::Dsl {
        numerics,
        checkpoint: false,
    }
}

const fn hand(pass: Pass, compiled: bool, numerics: Numerics) -> Variant {
    Variant::Hand(Hand {
        pass,
        compiled,
        numerics,
    })
}

impl Variant {
    /// Every variant, by command-line name: the reference row first, then
    /// the diagnostic rows.
    pub const ALL: &[(&str, Variant)] = &[
        ("mlx", hand(Pass::Train, true, Numerics::BF16)),
        ("dsl", dsl(Numerics::BF16)),
        (
            "mlx-unfused-attention",
            hand(
                Pass::Train,
                true,
                Numerics {
                    attention: Attention::Unfused,
                    ..Numerics::BF16
                },
            ),
        ),
        ("mlx-f32", hand(Pass::Train, true, Numerics::F32)),
        ("dsl-f32", dsl(Numerics::F32)),
        ("mlx-eager", hand(Pass::Train, false, Numerics::BF16)),
        ("mlx-fwd-bwd", hand(Pass::Gradients, true, Numerics::BF16)),
        ("mlx-forward", hand(Pass::Forward, true, Numerics::BF16)),
    ];

    /// The variant called `name` on the command line.
    pub fn named(name: &str) -> Option<Variant> {
        Variant::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, v)| v)
    }

    /// What the row measures, in words.
    pub fn describe(&self) -> String {
        match self {
            Variant::Hand(h) => format!(
                "hand-written mlx-rs, {}, {}, {:?} compute, {} attention",
                h.pass.name(),
                if h.compiled { "compiled" } else { "eager" },
                h.numerics.compute,
                match h.numerics.attention {
                    Attention::Fused => "fused",
                    Attention::Unfused => "unfused",
                }
            ),
            Variant::Dsl {
                numerics,
                checkpoint,
            } => format!(
                "model! (mithril_zoo::gpt) through Trainer, train, compiled, {:?} compute, fused attention{}",
                numerics.compute,
                if *checkpoint {
                    ", blocks recomputed in the backward pass"
                } else {
                    ""
                }
            ),
        }
    }

    /// The variant with its model's blocks recomputed in the backward pass
    /// (`--checkpoint`); `None` for the hand-written model, which has no
    /// such form.
    pub fn checkpointed(self) -> Option<Variant> {
        match self {
            Variant::Dsl { numerics, .. } => Some(Variant::Dsl {
                numerics,
                checkpoint: true,
            }),
            Variant::Hand(_) => None,
        }
    }

    /// What a step computes (for the FLOP count).
    pub fn pass(&self) -> Pass {
        match self {
            Variant::Hand(h) => h.pass,
            Variant::Dsl { .. } => Pass::Train,
        }
    }

    /// A runner for this variant at `config`, on `tokens`/`targets`, from
    /// the weights drawn from `seed`.
    pub fn runner(
        &self,
        config: Config,
        seed: u64,
        adamw: AdamWSettings,
        tokens: &Array,
        targets: &Array,
    ) -> Result<Box<dyn StepRunner>, Exception> {
        match *self {
            Variant::Hand(h) => hand_runner(h, Gpt::init(config, seed)?, adamw, tokens, targets),
            Variant::Dsl {
                numerics,
                checkpoint,
            } => crate::dsl::runner(config, seed, numerics, checkpoint, adamw, tokens, targets),
        }
    }
}

// ---------------------------------------------------------------------------
// The hand-written model's steps.

/// What a compiled training step carries from call to call: the f32
/// parameters, AdamW's moments and its hyperparameters, all of it declared
/// as explicit state so the compiled closure captures no array.
pub struct TrainState {
    /// The model (f32 master weights).
    pub model: Gpt,
    /// AdamW, its moments created up front (zeros), so every step, the
    /// first included, runs the same compiled graph.
    pub optimizer: AdamW,
}

impl TrainState {
    /// `model` and a fresh AdamW with zeroed moments for every parameter.
    pub fn new(model: Gpt, settings: AdamWSettings) -> Result<TrainState, Exception> {
        let mut optimizer = AdamWBuilder::new(settings.lr)
            .betas(BETAS)
            .eps(EPS)
            .weight_decay(settings.weight_decay)
            .build()
            .map_err(|e| Exception::custom(format!("{e:?}")))?;
        for (key, value) in model.parameters().flatten() {
            let zeros = mithril::mlx_rs::ops::zeros_like(value)?;
            optimizer.state.insert(key, (zeros.clone(), zeros));
        }
        Ok(TrainState { model, optimizer })
    }
}

impl Updatable for TrainState {
    fn state_projection(&mut self) -> Result<StateProjection<'_>, StateProjectionError> {
        let mut projection = StateProjection::new();
        for (key, value) in self.model.parameters_mut().flatten() {
            projection.required(format!("model.{key}"), value)?;
        }
        let AdamW {
            lr,
            betas,
            eps,
            weight_decay,
            state,
        } = &mut self.optimizer;
        projection.required("adamw.lr", lr)?;
        projection.required("adamw.beta1", &mut betas.0)?;
        projection.required("adamw.beta2", &mut betas.1)?;
        projection.required("adamw.eps", eps)?;
        projection.required("adamw.weight_decay", weight_decay)?;
        for (key, (m, v)) in state.iter_mut() {
            projection.required(format!("adamw.m.{key}"), m)?;
            projection.required(format!("adamw.v.{key}"), v)?;
        }
        Ok(projection)
    }
}

/// The loss and the gradient of every parameter (by flattened key) of
/// `model` on `tokens` -> `targets`.
pub fn loss_and_gradients(
    model: &mut Gpt,
    tokens: &Array,
    targets: &Array,
    n: Numerics,
) -> Result<(Array, HashMap<Rc<str>, Array>), Exception> {
    let mut value_and_grad =
        nn::value_and_grad(move |m: &mut Gpt, (x, y): (&Array, &Array)| loss(m, x, y, n));
    value_and_grad(model, (tokens, targets))
}

/// One training step: forward, loss, backward, AdamW. `args` are the tokens
/// and the targets; returns the loss.
pub fn train_step(
    n: Numerics,
) -> impl FnMut(&mut TrainState, &[Array]) -> Result<Vec<Array>, Exception> + Clone + 'static {
    move |state, args| {
        let (loss, grads) = loss_and_gradients(&mut state.model, &args[0], &args[1], n)?;
        state.optimizer.update(&mut state.model, grads)?;
        Ok(vec![loss])
    }
}

/// Forward and backward only: the loss, then the gradients in key order.
fn gradients_step(
    n: Numerics,
) -> impl FnMut(&mut Gpt, &[Array]) -> Result<Vec<Array>, Exception> + Clone + 'static {
    move |model, args| {
        let (loss, grads) = loss_and_gradients(model, &args[0], &args[1], n)?;
        let mut grads: Vec<_> = grads.into_iter().collect();
        grads.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(std::iter::once(loss)
            .chain(grads.into_iter().map(|(_, g)| g))
            .collect())
    }
}

/// Forward and loss only.
fn forward_step(
    n: Numerics,
) -> impl FnMut(&mut Gpt, &[Array]) -> Result<Vec<Array>, Exception> + Clone + 'static {
    move |model, args| Ok(vec![loss(model, &args[0], &args[1], n)?])
}

type StepFn<S> = Box<dyn FnMut(&mut S, &[Array]) -> Result<Vec<Array>, Exception>>;

/// A step function over state `S`, and the state's arrays a step must
/// evaluate besides its outputs.
struct Runner<S: Updatable> {
    state: S,
    args: Vec<Array>,
    step: StepFn<S>,
    changed: fn(&S) -> Vec<Array>,
}

impl<S: Updatable> StepRunner for Runner<S> {
    fn step(&mut self) -> Result<Vec<Array>, Exception> {
        let mut out = (self.step)(&mut self.state, &self.args)?;
        out.extend((self.changed)(&self.state));
        Ok(out)
    }
}

/// The new parameters: evaluating them computes AdamW's new moments too
/// (each update reads them), which stay materialised in the optimizer, as
/// `mithril::train::Trainer::step` evaluates the loss and the parameters.
fn new_parameters(state: &TrainState) -> Vec<Array> {
    state
        .model
        .parameters()
        .flatten()
        .into_values()
        .cloned()
        .collect()
}

/// Nothing: the state (the parameters) is unchanged.
fn unchanged(_: &Gpt) -> Vec<Array> {
    Vec::new()
}

fn boxed<S: Updatable + 'static, F>(f: F, compiled: bool) -> StepFn<S>
where
    F: FnMut(&mut S, &[Array]) -> Result<Vec<Array>, Exception> + 'static,
{
    if compiled {
        let mut c = compile_with_state(f, None);
        Box::new(move |s: &mut S, a: &[Array]| c(s, a))
    } else {
        Box::new(f)
    }
}

fn hand_runner(
    h: Hand,
    model: Gpt,
    adamw: AdamWSettings,
    tokens: &Array,
    targets: &Array,
) -> Result<Box<dyn StepRunner>, Exception> {
    let args = vec![tokens.clone(), targets.clone()];
    let n = h.numerics;
    Ok(match h.pass {
        Pass::Train => Box::new(Runner {
            state: TrainState::new(model, adamw)?,
            args,
            step: boxed(train_step(n), h.compiled),
            changed: new_parameters,
        }),
        Pass::Gradients => Box::new(Runner {
            state: model,
            args,
            step: boxed(gradients_step(n), h.compiled),
            changed: unchanged,
        }),
        Pass::Forward => Box::new(Runner {
            state: model,
            args,
            step: boxed(forward_step(n), h.compiled),
            changed: unchanged,
        }),
    })
}

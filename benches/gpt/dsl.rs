//! The DSL variant: the zoo's GPT models (`mithril_zoo::gpt`, written in
//! `model!` with the LM head tied to the token embedding by `share`) trained
//! by `mithril::train::Trainer` with the same AdamW, in bf16 with f32 master
//! weights and f32 loss (`MlxBackend`'s `master_weights` and
//! `compute_precision`). Its parameters start as the hand-written model's
//! (mapped by path), so both variants compute the same steps. With
//! `--checkpoint` the models are the zoo's `Gpt2Checkpointed` instances,
//! whose blocks are recomputed in the backward pass.

use mithril::mlx_rs::builder::Builder;
use mithril::mlx_rs::error::Exception;
use mithril::mlx_rs::module::ModuleParameters;
use mithril::mlx_rs::ops::indexing::IndexOp;
use mithril::mlx_rs::optimizers::{AdamW, AdamWBuilder};
use mithril::mlx_rs::{Array, Dtype};
use mithril::train::{Loss, Objective, StepTimes, Trainer};
use mithril::{DType, MlxBackend, Model, Params, Values};
use mithril_zoo::gpt::{
    Gpt2SmallPadded as Gpt2Small, Gpt2SmallPaddedCheckpointed as Gpt2SmallCheckpointed, GptSmall,
    GptSmallCheckpointed, GptTiny, GptTinyCheckpointed,
};

use crate::model::{Config, Gpt, Numerics};
use crate::variants::{AdamWSettings, BETAS, EPS, StepRunner};

/// A `Trainer` stepping one of the zoo's GPTs on a fixed batch.
struct DslRunner<M: Model> {
    trainer: Trainer<M, AdamW>,
    params: M::Params,
    inputs: M::Inputs,
    targets: Array,
}

impl<M: Model> StepRunner for DslRunner<M> {
    fn step(&mut self) -> Result<Vec<Array>, Exception> {
        let out = self
            .trainer
            .step(&mut self.params, &self.inputs, &self.targets)
            .map_err(|e| Exception::custom(e.to_string()))?;
        Ok(vec![out.loss.as_dtype(Dtype::Float32)?])
    }

    fn host_times(&self) -> Option<StepTimes> {
        Some(self.trainer.last_step_times())
    }
}

/// The runner for the zoo model of `config`'s size, its blocks recomputed
/// in the backward pass with `checkpoint`.
pub fn runner(
    config: Config,
    seed: u64,
    numerics: Numerics,
    checkpoint: bool,
    adamw: AdamWSettings,
    tokens: &Array,
    targets: &Array,
) -> Result<Box<dyn StepRunner>, Exception> {
    let hand = Gpt::init(config, seed)?;
    let (h, n, a, x, y) = (&hand, numerics, adamw, tokens, targets);
    match (checkpoint, config) {
        (false, Config::GPT2_SMALL) => boxed::<Gpt2Small>(h, n, a, x, y),
        (false, Config::SMALL) => boxed::<GptSmall>(h, n, a, x, y),
        (false, Config::TINY) => boxed::<GptTiny>(h, n, a, x, y),
        (true, Config::GPT2_SMALL) => boxed::<Gpt2SmallCheckpointed>(h, n, a, x, y),
        (true, Config::SMALL) => boxed::<GptSmallCheckpointed>(h, n, a, x, y),
        (true, Config::TINY) => boxed::<GptTinyCheckpointed>(h, n, a, x, y),
        _ => Err(Exception::custom(
            "the DSL variant has the zoo's three sizes only",
        )),
    }
}

fn boxed<M: Model>(
    hand: &Gpt,
    numerics: Numerics,
    adamw: AdamWSettings,
    tokens: &Array,
    targets: &Array,
) -> Result<Box<dyn StepRunner>, Exception> {
    let fail = |e: mithril::Error| Exception::custom(e.to_string());
    let dtype = match numerics.compute {
        Dtype::Bfloat16 => DType::BF16,
        _ => DType::F32,
    };
    let backend = MlxBackend::builder()
        .dtype(dtype)
        .master_weights(DType::F32)
        .compute_precision(DType::F32)
        .build()
        .map_err(fail)?;
    let optimizer = AdamWBuilder::new(adamw.lr)
        .betas(BETAS)
        .eps(EPS)
        .weight_decay(adamw.weight_decay)
        .build()
        .map_err(|e| Exception::custom(format!("{e:?}")))?;
    let objective = Objective::new("logits", Loss::cross_entropy());
    let trainer = Trainer::<M, _>::new(&backend, &objective, optimizer).map_err(fail)?;
    let (b, t) = (tokens.shape()[0], tokens.shape()[1]);
    let row: Vec<i32> = (0..t).collect();
    let positions = Array::from_slice(&row.repeat(b as usize), &[b, t]);
    let inputs = M::Inputs::from_arrays(vec![tokens.clone(), positions])
        .ok_or_else(|| Exception::custom("the zoo's GPT takes tokens and positions"))?;
    Ok(Box::new(DslRunner::<M> {
        trainer,
        params: params_from_hand::<M>(hand)?,
        inputs,
        targets: targets.clone(),
    }))
}

/// The hand-written model's weights as `M`'s parameters, by path: GPT-2's
/// fused `[3 d, d]` attention input projection is mlx.nn's three.
fn params_from_hand<M: Model>(hand: &Gpt) -> Result<M::Params, Exception> {
    let d = hand.config.d_model;
    let flat = hand.parameters().flatten();
    let get = |key: &str| {
        flat.get(key)
            .map(|a| (*a).clone())
            .ok_or_else(|| Exception::custom(format!("the hand-written GPT has no `{key}`")))
    };
    let rows = |a: Array, part: i32| a.index(part * d..(part + 1) * d);
    let mut arrays = Vec::new();
    for w in &M::graph().weights {
        let parts: Vec<&str> = w.path.split('.').collect();
        let array = match parts[..] {
            ["wte", "weight"] => get("wte")?,
            ["wpe", "weight"] => get("wpe")?,
            ["ln_f", p] => get(&format!("ln_f.{p}"))?,
            ["h", i, layer, p] => {
                let hand_layer = match layer {
                    "ln_1" => "ln1",
                    "ln_2" => "ln2",
                    "fc" => "fc",
                    "proj" => "fc_proj",
                    other => return Err(Exception::custom(format!("unmapped layer `{other}`"))),
                };
                get(&format!("blocks.{i}.{hand_layer}.{p}"))?
            }
            ["h", i, "attn", projection, p] => {
                let qkv = || get(&format!("blocks.{i}.qkv.{p}"));
                match projection {
                    "query_proj" => rows(qkv()?, 0),
                    "key_proj" => rows(qkv()?, 1),
                    "value_proj" => rows(qkv()?, 2),
                    "out_proj" => get(&format!("blocks.{i}.proj.{p}"))?,
                    other => return Err(Exception::custom(format!("unmapped `{other}`"))),
                }
            }
            _ => {
                return Err(Exception::custom(format!(
                    "unmapped parameter `{}`",
                    w.path
                )));
            }
        };
        if array
            .shape()
            .iter()
            .map(|&n| n as usize)
            .collect::<Vec<_>>()
            != w.shape
        {
            return Err(Exception::custom(format!(
                "`{}`: the hand-written model's array is {:?}, the DSL's {:?}",
                w.path,
                array.shape(),
                w.shape
            )));
        }
        arrays.push(array);
    }
    mithril::mlx_rs::transforms::eval(arrays.iter())?;
    // By path: the family's repeat (`h: Block * layers`) is counted by its paths.
    M::Params::from_weights(&mut arrays.into_iter(), &M::graph().weights)
        .ok_or_else(|| Exception::custom("parameter count"))
}

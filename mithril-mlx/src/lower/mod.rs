//! How each catalogue layer runs as MLX ops: one [`Lower`] implementation
//! per layer, in a file named like the layer's rule in mithril-core's
//! `layers/` (`dense.rs` holds `Linear` and `Embedding` in both crates).
//!
//! The dispatch over [`Layer`] is generated from the catalogue's list
//! (`mithril_core::for_each_layer!`), so a layer without a lowering does
//! not compile.

mod activation;
mod attention;
mod buffer;
mod combine;
mod conv;
mod custom;
mod dense;
mod math;
mod norm;
mod pool;
mod recurrent;
mod reduce;
mod reshape;
mod select;
mod shape_ops;

use mithril_core::layers::Layer;

use crate::decode::CacheSlots;
use crate::error::{Error, raise};
use mlx_rs::error::Exception;
use mlx_rs::{Array, Dtype, ops};

/// How a graph runs: what the backend's configuration means for lowering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Where set, numerically sensitive layers (softmax, log-softmax, norms,
    /// losses) compute in this dtype and cast back (e.g. f16 storage with f32
    /// accumulation).
    pub accumulate: Option<mlx_rs::Dtype>,
    /// Training (dropout active, batch statistics) or inference.
    pub training: bool,
    /// Where set, weights and floating-point inputs are cast to this dtype
    /// before the graph runs: the parameters stay in a wider dtype (master
    /// weights, which the optimizer updates) while activations use this one.
    pub compute: Option<mlx_rs::Dtype>,
}

impl RunOptions {
    /// Runs `f` on `x` in the accumulation dtype, casting the result back.
    pub fn accumulated(
        &self,
        x: &Array,
        f: impl FnOnce(&Array) -> Result<Array, Exception>,
    ) -> Result<Array, Exception> {
        match self.accumulate {
            Some(dtype) if dtype != x.dtype() => f(&x.as_dtype(dtype)?)?.as_dtype(x.dtype()),
            _ => f(x),
        }
    }
}

/// What a lowering may need beyond its inputs and weights: the run options,
/// random keys (dropout), and a place to put updated buffers (batch statistics).
pub struct LowerCtx {
    /// How the graph runs.
    pub options: RunOptions,
    key: Option<Array>,
    /// How many keys [`LowerCtx::next_key`] has drawn.
    draws: usize,
    /// New buffer values, by index into the graph's weights.
    pub updates: Vec<(usize, Array)>,
    /// Index of the current layer's first weight in the graph's weights.
    pub weight_offset: usize,
    /// While a [`Decoder`](crate::decode::Decoder) runs the model: the KV
    /// cache that causal attention reads and extends.
    pub(crate) cache: Option<CacheSlots>,
}

impl LowerCtx {
    /// A context for one run.
    pub fn new(options: RunOptions, key: Option<Array>) -> LowerCtx {
        LowerCtx {
            options,
            key,
            draws: 0,
            updates: Vec::new(),
            weight_offset: 0,
            cache: None,
        }
    }

    /// A context for one decoding run, whose causal attention reads and
    /// extends `cache`.
    pub(crate) fn decoding(options: RunOptions, cache: CacheSlots) -> LowerCtx {
        LowerCtx {
            cache: Some(cache),
            ..LowerCtx::new(options, None)
        }
    }

    /// A fresh key for a layer that draws random numbers (split from the
    /// run's key); such a layer says so on its rule
    /// (`LayerRule::draws_random_numbers`).
    pub fn next_key(&mut self) -> Result<Array, Exception> {
        let key = self.key.as_ref().ok_or_else(|| {
            raise(Error::Internal(
                "a stochastic layer ran in training mode without a random key",
            ))
        })?;
        let (next, sub) = mlx_rs::random::split(key, 2)?;
        self.key = Some(next);
        self.draws += 1;
        Ok(sub)
    }

    /// The run's current key, from which the next layer's is split.
    pub(crate) fn key(&self) -> Option<&Array> {
        self.key.as_ref()
    }

    /// How many keys the run has drawn.
    pub(crate) fn draws(&self) -> usize {
        self.draws
    }

    /// Advances the key as `n` draws would: a block recomputed in the
    /// backward pass draws from a copy of the key, and the layers after it
    /// go on from where its draws left it.
    pub(crate) fn skip_draws(&mut self, n: usize) -> Result<(), Exception> {
        for _ in 0..n {
            self.next_key()?;
        }
        Ok(())
    }

    /// Records a new value for the current layer's weight `local` (a buffer).
    pub fn update(&mut self, local: usize, value: Array) {
        self.updates.push((self.weight_offset + local, value));
    }
}

/// One application of a layer: what its lowering reads.
pub struct Call<'a> {
    /// Its inputs.
    pub inputs: &'a [&'a Array],
    /// Its parameters, in the order of its `WeightSpec`s.
    pub weights: &'a [Array],
    /// The output's concrete shape, which the graph computed with the
    /// layer's shape rule.
    pub out_shape: &'a [i32],
    /// The run's options, key and buffer updates.
    pub ctx: &'a mut LowerCtx,
}

impl<'a> Call<'a> {
    /// The first (for most layers the only) input.
    pub fn x(&self) -> &'a Array {
        self.inputs[0]
    }
}

/// A layer's lowering: what it computes, as MLX ops.
pub trait Lower {
    /// Runs one application of the layer.
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception>;
}

macro_rules! dispatch {
    ($($layer:ident),* $(,)?) => {
        /// Runs `layer` on `inputs` with its parameters `weights` (in the
        /// order of its `WeightSpec`s); `out_shape` is the output's concrete
        /// shape.
        pub fn lower(
            layer: &Layer,
            inputs: &[&Array],
            weights: &[Array],
            out_shape: &[i32],
            ctx: &mut LowerCtx,
        ) -> Result<Array, Exception> {
            let mut call = Call { inputs, weights, out_shape, ctx };
            match layer {
                $(Layer::$layer(l) => Lower::lower(l, &mut call),)*
            }
        }
    };
}

mithril_core::for_each_layer!(dispatch);

pub(crate) use activation::gelu_approx;
pub(crate) use math::robust_log;

/// A lowering's refusal to run on what it was given: `reason` says what is
/// wrong (and what to write instead); the interpreter reports it as
/// [`Error::Layer`](crate::Error::Layer), naming the layer.
fn refuse(reason: impl Into<String>) -> Exception {
    Exception::custom(reason)
}

/// A scalar of `like`'s dtype, as a Python float is in MLX arithmetic.
fn scalar(value: f64, like: &Array) -> Result<Array, Exception> {
    if like.dtype() == Dtype::Float64 {
        Ok(Array::from_f64(value))
    } else {
        Array::from_f32(value as f32).as_dtype(like.dtype())
    }
}

/// `x W^T (+ b)`, mlx.nn.Linear.
fn linear(x: &Array, weight: &Array, bias: Option<&Array>) -> Result<Array, Exception> {
    match bias {
        Some(b) => ops::addmm(b, x, weight.t(), None, None),
        None => ops::matmul(x, weight.t()),
    }
}

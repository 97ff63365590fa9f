//! Choosing the next token from logits: greedy, or sampled with
//! temperature, top-k and top-p from a seeded key.

use mlx_rs::error::Exception;
use mlx_rs::ops::indexing::{IndexOp, argmax_axis};
use mlx_rs::{Array, Dtype, ops, random};

use super::GenerationError;

/// How the next token is chosen from the logits.
#[derive(Clone, Debug, PartialEq)]
pub enum Sampling {
    /// The most likely token (transformers' `do_sample=False`).
    Greedy,
    /// A token drawn from the softmax of the logits divided by
    /// `temperature`, among the `top_k` most likely tokens where set, and
    /// among the most likely tokens whose probabilities sum to `top_p`
    /// where set (transformers' order: temperature, top-k, top-p). The
    /// same `seed` draws the same tokens.
    Random {
        /// Divides the logits; positive. Below 1 sharpens, above 1 flattens.
        temperature: f32,
        /// Keep only this many most likely tokens (at least 1).
        top_k: Option<usize>,
        /// Keep the most likely tokens whose probabilities sum to at least
        /// this (nucleus sampling); in `(0, 1]`.
        top_p: Option<f32>,
        /// Seeds the draws.
        seed: u64,
    },
}

impl Sampling {
    /// Drawing at `temperature` from `seed`, with neither top-k nor top-p.
    pub fn random(temperature: f32, seed: u64) -> Sampling {
        Sampling::Random {
            temperature,
            top_k: None,
            top_p: None,
            seed,
        }
    }

    /// Keeps only the `k` most likely tokens (for [`Sampling::Random`]).
    pub fn top_k(self, k: usize) -> Sampling {
        match self {
            Sampling::Random {
                temperature,
                top_p,
                seed,
                ..
            } => Sampling::Random {
                temperature,
                top_k: Some(k),
                top_p,
                seed,
            },
            greedy => greedy,
        }
    }

    /// Keeps the most likely tokens whose probabilities sum to `p` (for
    /// [`Sampling::Random`]).
    pub fn top_p(self, p: f32) -> Sampling {
        match self {
            Sampling::Random {
                temperature,
                top_k,
                seed,
                ..
            } => Sampling::Random {
                temperature,
                top_k,
                top_p: Some(p),
                seed,
            },
            greedy => greedy,
        }
    }

    /// Refuses settings that do not describe a distribution.
    pub(crate) fn check(&self) -> Result<(), GenerationError> {
        let Sampling::Random {
            temperature,
            top_k,
            top_p,
            ..
        } = *self
        else {
            return Ok(());
        };
        let refuse = |setting: &'static str, found: String, expected: &'static str| {
            Err(GenerationError::Setting {
                setting,
                found,
                expected,
            })
        };
        if !(temperature.is_finite() && temperature > 0.0) {
            return refuse(
                "temperature",
                temperature.to_string(),
                "a positive number (Sampling::Greedy for the most likely token)",
            );
        }
        if top_k == Some(0) {
            return refuse("top_k", "0".into(), "at least 1");
        }
        if let Some(p) = top_p
            && !(p > 0.0 && p <= 1.0)
        {
            return refuse("top_p", p.to_string(), "a number in (0, 1]");
        }
        Ok(())
    }
}

/// The key sequence of a generation: one fresh key per chosen token.
pub(crate) struct Keys(Option<Array>);

impl Keys {
    pub(crate) fn new(sampling: &Sampling) -> Result<Keys, Exception> {
        Ok(Keys(match sampling {
            Sampling::Greedy => None,
            Sampling::Random { seed, .. } => Some(random::key(*seed)?),
        }))
    }

    fn next(&mut self) -> Result<Option<Array>, Exception> {
        let Some(key) = &self.0 else { return Ok(None) };
        let (next, sub) = random::split(key, 2)?;
        self.0 = Some(next);
        Ok(Some(sub))
    }
}

/// The next token of every row (`[B]` int32) from `logits` (`[B, V]`), lazily.
pub(crate) fn choose(
    logits: &Array,
    sampling: &Sampling,
    keys: &mut Keys,
) -> Result<Array, Exception> {
    let Sampling::Random {
        temperature,
        top_k,
        top_p,
        ..
    } = *sampling
    else {
        return argmax_axis(logits, -1, None)?.as_dtype(Dtype::Int32);
    };
    let key = keys.next()?;
    let mut x = logits
        .as_dtype(Dtype::Float32)?
        .divide(Array::from_f32(temperature))?;
    let vocab = x.shape()[1];
    let excluded = Array::from_f32(f32::NEG_INFINITY);
    if let Some(k) = top_k.filter(|&k| (k as i32) < vocab) {
        // The k-th largest logit of each row; ties with it stay in.
        let kth = ops::sort_axis(&x, -1)?.index((.., vocab - k as i32..vocab - k as i32 + 1));
        x = ops::select(&x.ge(&kth)?, &x, &excluded)?;
    }
    if let Some(p) = top_p.filter(|&p| p < 1.0) {
        let probs = ops::softmax_axis(&x, -1, None)?;
        let ascending = ops::sort_axis(&probs, -1)?;
        // The probability of the tokens more likely than each: a token is
        // kept while that is below p (the most likely token always is).
        let above = Array::from_f32(1.0).subtract(&ops::cumsum(&ascending, -1, None, None)?)?;
        let kept = ops::select(
            &above.lt(Array::from_f32(p))?,
            &ascending,
            Array::from_f32(f32::INFINITY),
        )?;
        let smallest_kept = kept.min_axis(-1, true)?;
        x = ops::select(&probs.ge(&smallest_kept)?, &x, &excluded)?;
    }
    random::categorical(&x, -1, None, key.as_ref())?.as_dtype(Dtype::Int32)
}

//! Losses between one model output and the targets, and how they reduce.

use mithril_core::layers::Threshold;
use mlx_rs::error::Exception;
use mlx_rs::losses::{
    BinaryCrossEntropy, CrossEntropy, HingeLoss, KlDivLoss, L1Loss, LossReduction, MseLoss,
};
use mlx_rs::{Array, ops};

use crate::error::{Error, Result, raise};
use crate::lower::robust_log;

/// A loss between one model output and the targets.
#[derive(Clone, Debug, PartialEq)]
pub enum Loss {
    /// Categorical cross-entropy along the last axis, from scores of any
    /// [`Scores`] kind (Mithril's `CrossEntropy` and its `input_type`).
    /// Targets are class indices (one rank less than the scores) or one-hot
    /// / probability rows (same rank). With per-class weights `w`, a
    /// sample's loss is `-sum_c w_c t_c log p_c` (`-w_y log p_y` for an
    /// index `y`, Mithril's and PyTorch's formula) and its weight
    /// `sum_c w_c t_c`; the mean is `sum(loss_i) / sum(weight_i)`
    /// (PyTorch's convention; Mithril divides by the batch size, which is
    /// [`Reduction::Sum`] over the batch size).
    CrossEntropy {
        /// What the model output is.
        scores: Scores,
        /// One weight per class.
        class_weights: Option<Vec<f32>>,
    },
    /// `(y - t)^2`.
    SquaredError,
    /// `|y - t|`.
    AbsoluteError,
    /// Binary cross-entropy of targets in [0, 1], from logits (sigmoid
    /// inside) or probabilities (Mithril's `BinaryCrossEntropy`):
    /// `-w t log p - (1 - t) log(1 - p)` with `positive_weight` w.
    BinaryCrossEntropy {
        /// Logits or probabilities (log-probabilities are refused).
        scores: Scores,
        /// The weight of the positive term (1: none).
        positive_weight: f32,
    },
    /// KL(targets || outputs). With [`Scores::LogProbabilities`] (the
    /// default, [`Loss::kl_divergence`]) both are log-probabilities along
    /// the last axis and a sample's loss is `sum_c exp(t_c) (t_c - y_c)`
    /// (mlx's). With [`Scores::Probabilities`] both are probabilities and
    /// the loss is Mithril's `KLDivergence`, elementwise: `t (log t - log
    /// y)`, its mean over every element; `robust` takes Mithril's robust
    /// log, finite at 0, and without it a target of 0 contributes 0.
    /// Logits are refused.
    KlDivergence {
        /// Log-probabilities or probabilities.
        scores: Scores,
    },
    /// `max(0, 1 - y * t)` with targets in {-1, 1}.
    Hinge,
    /// `max(0, 1 - y * t)^2` with targets in {-1, 1} (Mithril's `QuadHingeLoss`).
    SquaredHinge,
    /// The pinball loss of quantile q: `max(q e, (q - 1) e)` with the error
    /// `e = t - y` (Mithril's `QuantileLoss`; q = 0.5 is half the absolute
    /// error).
    Quantile {
        /// The quantile, in [0, 1].
        quantile: f32,
    },
}

/// What a classification loss's input is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scores {
    /// Unnormalised scores: the loss applies the softmax (or sigmoid) itself,
    /// stably. The default.
    #[default]
    Logits,
    /// Probabilities (after a `Softmax` or `Sigmoid`). With `robust`, the
    /// log is Mithril's robust log (`RobustLog`), finite at 0, so a
    /// probability that underflowed gives a large finite loss and gradient
    /// rather than infinity.
    Probabilities {
        /// Take the robust log.
        robust: bool,
    },
    /// Log-probabilities (after a `LogSoftmax`).
    LogProbabilities,
}

impl Loss {
    /// Cross-entropy from logits without class weights.
    pub fn cross_entropy() -> Loss {
        Loss::CrossEntropy {
            scores: Scores::Logits,
            class_weights: None,
        }
    }

    /// KL divergence of log-probabilities (mlx's `kl_div_loss`).
    pub fn kl_divergence() -> Loss {
        Loss::KlDivergence {
            scores: Scores::LogProbabilities,
        }
    }

    /// Binary cross-entropy from logits without a positive weight.
    pub fn binary_cross_entropy() -> Loss {
        Loss::BinaryCrossEntropy {
            scores: Scores::Logits,
            positive_weight: 1.0,
        }
    }
}

impl Loss {
    /// Checks that the loss can read its scores: [`Error::Loss`] for the KL
    /// divergence of logits or the binary cross-entropy of
    /// log-probabilities.
    pub fn check(&self) -> Result<()> {
        match self {
            Loss::KlDivergence {
                scores: Scores::Logits,
            }
            | Loss::BinaryCrossEntropy {
                scores: Scores::LogProbabilities,
                ..
            } => Err(unreadable_scores(self)),
            _ => Ok(()),
        }
    }
}

/// [`Error::Loss`] for a loss given scores it cannot read.
fn unreadable_scores(loss: &Loss) -> Error {
    let reason = match loss {
        Loss::KlDivergence { .. } => {
            "the KL divergence takes log-probabilities or probabilities, not logits: \
             end the model with `LogSoftmax` and write `Loss::kl_divergence()`, or with \
             `Softmax` and write `scores: Scores::Probabilities { robust: false }`"
        }
        _ => {
            "binary cross-entropy takes logits or probabilities, not log-probabilities: \
             write `scores: Scores::Logits` on the scores before `Sigmoid`"
        }
    };
    Error::Loss {
        loss: format!("Loss::{loss:?}"),
        reason: reason.to_string(),
    }
}

/// How per-element losses become one number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// The mean (default).
    #[default]
    Mean,
    /// The sum.
    Sum,
}

fn reduce(loss: Array, reduction: Reduction) -> Result<Array, Exception> {
    match reduction {
        Reduction::Mean => loss.mean(None),
        Reduction::Sum => loss.sum(None),
    }
}

/// The loss of `prediction` against `targets`, reduced.
pub fn loss_value(
    loss: &Loss,
    reduction: Reduction,
    prediction: &Array,
    targets: &Array,
) -> Result<Array, Exception> {
    let none = || LossReduction::None;
    let per_element = match loss {
        Loss::CrossEntropy {
            scores,
            class_weights,
        } => {
            return cross_entropy(
                *scores,
                class_weights.as_deref(),
                reduction,
                prediction,
                targets,
            );
        }
        Loss::SquaredError => MseLoss { reduction: none() }.apply(prediction, targets)?,
        Loss::AbsoluteError => L1Loss { reduction: none() }.apply(prediction, targets)?,
        Loss::BinaryCrossEntropy {
            scores,
            positive_weight,
        } => binary_cross_entropy(*scores, *positive_weight, prediction, targets)?,
        Loss::KlDivergence { scores } => kl_divergence(*scores, prediction, targets)?,
        Loss::Hinge => HingeLoss { reduction: none() }.apply(prediction, targets)?,
        Loss::SquaredHinge => HingeLoss { reduction: none() }
            .apply(prediction, targets)?
            .square()?,
        Loss::Quantile { quantile } => {
            let error = targets.subtract(prediction)?;
            let q = scalar(f64::from(*quantile), prediction)?;
            let below = q.subtract(scalar(1.0, prediction)?)?;
            ops::maximum(q.multiply(&error)?, below.multiply(&error)?)?
        }
    };
    reduce(per_element, reduction)
}

/// `log p`, or Mithril's robust log of `p` with its cutoff for `p`'s dtype.
fn log_of(p: &Array, robust: bool) -> Result<Array, Exception> {
    match robust {
        true => robust_log(p, Threshold::Auto),
        false => p.log(),
    }
}

/// Categorical cross-entropy (see [`Loss::CrossEntropy`]).
fn cross_entropy(
    scores: Scores,
    class_weights: Option<&[f32]>,
    reduction: Reduction,
    prediction: &Array,
    targets: &Array,
) -> Result<Array, Exception> {
    let indices = targets.ndim() + 1 == prediction.ndim();
    if scores == Scores::Logits && class_weights.is_none() {
        // mlx-rs's own, as before scores had kinds.
        let per_sample = CrossEntropy::new()
            .map_err(|_| raise(Error::Internal("mlx-rs's cross-entropy did not build")))?
            .apply(prediction, targets)?;
        return reduce(per_sample, reduction);
    }
    let log_p = match scores {
        Scores::Logits => mlx_rs::nn::log_softmax(prediction, -1)?,
        Scores::Probabilities { robust } => log_of(prediction, robust)?,
        Scores::LogProbabilities => prediction.clone(),
    };
    let weights = class_weights
        .map(|w| Array::from_slice(w, &[w.len() as i32]).as_dtype(log_p.dtype()))
        .transpose()?;
    let (per_sample, sample_weights) = if indices {
        let picked = ops::indexing::take_along_axis(&log_p, targets.expand_dims(-1)?, -1)?
            .squeeze_axes(&[-1])?;
        match &weights {
            Some(w) => {
                let sw = w.take(targets)?;
                (picked.multiply(&sw)?.negative()?, Some(sw))
            }
            None => (picked.negative()?, None),
        }
    } else {
        let weighted = match &weights {
            Some(w) => targets.multiply(w)?,
            None => targets.clone(),
        };
        let per_sample = weighted.multiply(&log_p)?.sum_axis(-1, None)?.negative()?;
        let sw = weights
            .as_ref()
            .map(|_| weighted.sum_axis(-1, None))
            .transpose()?;
        (per_sample, sw)
    };
    match (reduction, sample_weights) {
        (Reduction::Mean, Some(sw)) => per_sample.sum(None)?.divide(sw.sum(None)?),
        (reduction, _) => reduce(per_sample, reduction),
    }
}

/// KL divergence (see [`Loss::KlDivergence`]): per sample for
/// log-probabilities, elementwise for probabilities.
fn kl_divergence(scores: Scores, prediction: &Array, targets: &Array) -> Result<Array, Exception> {
    match scores {
        Scores::LogProbabilities => KlDivLoss {
            axis: -1,
            reduction: LossReduction::None,
        }
        .apply(prediction, targets),
        Scores::Probabilities { robust } => {
            let terms = targets
                .multiply(log_of(targets, robust)?.subtract(log_of(prediction, robust)?)?)?;
            if robust {
                // The robust log is finite at 0, so 0 * log 0 is already 0.
                return Ok(terms);
            }
            let zero = scalar(0.0, prediction)?;
            ops::select(&targets.eq(&zero)?, &zero, &terms)
        }
        Scores::Logits => Err(raise(unreadable_scores(&Loss::KlDivergence { scores }))),
    }
}

/// Binary cross-entropy (see [`Loss::BinaryCrossEntropy`]), elementwise.
fn binary_cross_entropy(
    scores: Scores,
    positive_weight: f32,
    prediction: &Array,
    targets: &Array,
) -> Result<Array, Exception> {
    let one = scalar(1.0, prediction)?;
    let w = scalar(f64::from(positive_weight), prediction)?;
    match scores {
        Scores::Logits if positive_weight == 1.0 => BinaryCrossEntropy {
            weights: None,
            inputs_are_logits: true,
            reduction: LossReduction::None,
        }
        .apply(prediction, targets),
        // Mithril's: (1 - t) x - ((w - 1) t + 1) log(sigmoid(x)), with
        // log(sigmoid(x)) = min(0, x) - log1p(exp(-|x|)).
        Scores::Logits => {
            let log_sigmoid = ops::minimum(prediction, scalar(0.0, prediction)?)?
                .subtract(prediction.abs()?.negative()?.exp()?.log1p()?)?;
            let scale = w.subtract(&one)?.multiply(targets)?.add(&one)?;
            one.subtract(targets)?
                .multiply(prediction)?
                .subtract(scale.multiply(&log_sigmoid)?)
        }
        Scores::Probabilities { robust } => {
            let positive = w.multiply(targets)?.multiply(log_of(prediction, robust)?)?;
            let negative = one
                .subtract(targets)?
                .multiply(log_of(&one.subtract(prediction)?, robust)?)?;
            positive.add(&negative)?.negative()
        }
        Scores::LogProbabilities => Err(raise(unreadable_scores(&Loss::BinaryCrossEntropy {
            scores,
            positive_weight,
        }))),
    }
}

/// A scalar of `like`'s dtype.
fn scalar(value: f64, like: &Array) -> Result<Array, Exception> {
    Array::from_f64(value).as_dtype(like.dtype())
}

//! Training: losses, regularisation, metrics, and a train step (forward,
//! loss, backward, optimizer update) that runs as one compiled MLX closure
//! with the parameters and the optimizer's state as explicit state.

use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use mithril_core::graph::{Graph, Op};
use mlx_rs::error::Exception;
use mlx_rs::losses::{
    BinaryCrossEntropy, CrossEntropy, HingeLoss, KlDivLoss, L1Loss, LossReduction, MseLoss,
};
use mlx_rs::optimizers::Optimizer;
use mlx_rs::transforms::compile::compile_with_state;
use mlx_rs::transforms::fallible_vjp;
use mlx_rs::{Array, array, ops};

use crate::backend::MlxBackend;
use crate::compile::{Program, program};
use crate::distributed::{Group, average_gradients};
use crate::error::{Error, Result};
use crate::lower::{RunOptions, robust_log};
use crate::model::{Family, Model, Params, Values};
use crate::run::{check_arrays, run_graph_training};
use mithril_core::layers::Threshold;

mod divergence;
mod optimizer_state;
mod resume;

/// Gradients are averaged across processes in buckets of about this many
/// bytes (Python MLX's `nn.average_gradients` default).
const GRADIENT_BUCKET_BYTES: usize = 32 << 20;

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

/// How per-element losses become one number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// The mean (default).
    #[default]
    Mean,
    /// The sum.
    Sum,
}

/// A penalty on chosen parameters, added to the loss.
#[derive(Clone, Debug, PartialEq)]
pub struct Penalty {
    /// L1 (`sum |w|`) or L2 (`sum w^2`).
    pub kind: PenaltyKind,
    /// Its coefficient.
    pub coefficient: f32,
    /// Parameter paths it applies to (`fc1.weight`), or prefixes ending in `.` (`fc1.`).
    pub params: Vec<String>,
}

/// The kind of a [`Penalty`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PenaltyKind {
    /// `sum |w|`.
    L1,
    /// `sum w^2`.
    L2,
}

/// What training minimises: a loss on one output, reduced, plus penalties.
///
/// ```
/// use mithril_mlx::train::{Loss, Objective, Reduction};
/// let objective = Objective::new("logits", Loss::cross_entropy())
///     .reduction(Reduction::Mean)
///     .l2(1e-4, ["fc1.weight", "fc2.weight"]);
/// assert_eq!(objective.output(), "logits");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    output: String,
    loss: Loss,
    reduction: Reduction,
    penalties: Vec<Penalty>,
}

impl Objective {
    /// `loss` on the model output named `output`.
    pub fn new(output: &str, loss: Loss) -> Objective {
        Objective {
            output: output.to_string(),
            loss,
            reduction: Reduction::Mean,
            penalties: Vec::new(),
        }
    }

    /// Mean (default) or sum over elements.
    pub fn reduction(mut self, reduction: Reduction) -> Objective {
        self.reduction = reduction;
        self
    }

    /// Adds `coefficient * sum |w|` over the given parameters.
    pub fn l1<S: Into<String>>(
        mut self,
        coefficient: f32,
        params: impl IntoIterator<Item = S>,
    ) -> Objective {
        let params = params.into_iter().map(Into::into).collect();
        self.penalties.push(Penalty {
            kind: PenaltyKind::L1,
            coefficient,
            params,
        });
        self
    }

    /// Adds `coefficient * sum w^2` over the given parameters.
    pub fn l2<S: Into<String>>(
        mut self,
        coefficient: f32,
        params: impl IntoIterator<Item = S>,
    ) -> Objective {
        let params = params.into_iter().map(Into::into).collect();
        self.penalties.push(Penalty {
            kind: PenaltyKind::L2,
            coefficient,
            params,
        });
        self
    }

    /// The output the loss reads.
    pub fn output(&self) -> &str {
        &self.output
    }

    /// Resolves names against a graph: the output's index and, per penalty,
    /// the weight indices it covers.
    fn bind(&self, model: &'static str, graph: &Graph) -> Result<BoundObjective> {
        let output = graph
            .outputs
            .iter()
            .position(|o| o.name == self.output)
            .ok_or_else(|| Error::UnknownOutput {
                model,
                name: self.output.clone(),
                known: graph
                    .outputs
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let mut penalties = Vec::new();
        for p in &self.penalties {
            let mut indices = Vec::new();
            for name in &p.params {
                let matched: Vec<usize> = graph
                    .weights
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| {
                        if name.ends_with('.') {
                            w.path.starts_with(name.as_str())
                        } else {
                            w.path == *name
                        }
                    })
                    .map(|(i, _)| i)
                    .collect();
                if matched.is_empty() {
                    return Err(Error::UnknownParam {
                        model,
                        name: name.clone(),
                    });
                }
                indices.extend(matched);
            }
            penalties.push((p.kind, p.coefficient, indices));
        }
        Ok(BoundObjective {
            output,
            loss: self.loss.clone(),
            reduction: self.reduction,
            penalties,
        })
    }
}

#[derive(Clone)]
struct BoundObjective {
    output: usize,
    loss: Loss,
    reduction: Reduction,
    penalties: Vec<(PenaltyKind, f32, Vec<usize>)>,
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
            .map_err(|e| Exception::custom(e.to_string()))?
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
        Scores::Logits => Err(Exception::custom(
            "the KL divergence takes probabilities or log-probabilities, not logits",
        )),
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
        Scores::LogProbabilities => Err(Exception::custom(
            "binary cross-entropy takes logits or probabilities, not log-probabilities",
        )),
    }
}

/// A scalar of `like`'s dtype.
fn scalar(value: f64, like: &Array) -> Result<Array, Exception> {
    Array::from_f64(value).as_dtype(like.dtype())
}

/// What one training-mode evaluation of the objective needs.
struct ObjectiveRun<'a> {
    graph: &'a Graph,
    objective: &'a BoundObjective,
    options: RunOptions,
    /// Indices of the trainable weights (the rest are buffers).
    trainable: &'a [usize],
}

impl ObjectiveRun<'_> {
    /// The objective (loss plus penalties) in training mode, and every
    /// weight's value after the run (buffers updated by the layers).
    fn value(
        &self,
        weights: &[Array],
        inputs: &[Array],
        targets: &Array,
        key: &Array,
    ) -> Result<(Array, Vec<Array>), Exception> {
        let (outputs, updates) =
            run_graph_training(self.graph, weights, inputs, &self.options, key)?;
        let prediction = &outputs[self.objective.output];
        let objective = self.objective;
        let mut total = match self.options.accumulate {
            Some(dtype) if dtype != prediction.dtype() => loss_value(
                &objective.loss,
                objective.reduction,
                &prediction.as_dtype(dtype)?,
                targets,
            )?,
            _ => loss_value(&objective.loss, objective.reduction, prediction, targets)?,
        };
        for (kind, coefficient, indices) in &objective.penalties {
            for &i in indices {
                let w = &weights[i];
                let term = match kind {
                    PenaltyKind::L1 => w.abs()?.sum(None)?,
                    PenaltyKind::L2 => w.square()?.sum(None)?,
                };
                total = total.add(term.multiply(array!(*coefficient))?)?;
            }
        }
        let mut after = weights.to_vec();
        for (i, value) in updates {
            after[i] = value;
        }
        Ok((total, after))
    }

    /// The objective, its gradient for every trainable weight (in order),
    /// and the buffers' new values (in weight order).
    fn value_and_gradients(
        &self,
        weights: &[Array],
        inputs: &[Array],
        targets: &Array,
        key: &Array,
    ) -> Result<(Array, Vec<Array>, Vec<Array>), Exception> {
        let buffers: Vec<usize> = (0..weights.len())
            .filter(|i| !self.trainable.contains(i))
            .collect();
        let primals: Vec<Array> = self.trainable.iter().map(|&i| weights[i].clone()).collect();
        let f = |trainable: &[Array]| -> Result<Vec<Array>, Exception> {
            let mut all = weights.to_vec();
            for (&i, w) in self.trainable.iter().zip(trainable) {
                all[i] = w.clone();
            }
            let (loss, after) = self.value(&all, inputs, targets, key)?;
            let mut out = vec![loss];
            out.extend(buffers.iter().map(|&i| after[i].clone()));
            Ok(out)
        };
        // The buffers' new values ride along as extra outputs with zero
        // cotangents (they are computed outside the gradient).
        let mut cotangents = vec![array!(1.0f32)];
        for &i in &buffers {
            cotangents.push(ops::zeros_like(&weights[i])?);
        }
        let (mut values, grads) = fallible_vjp(f, &primals, &cotangents)?;
        let buffer_values = values.split_off(1);
        Ok((values.swap_remove(0), grads, buffer_values))
    }
}

/// The loss, gradients and new buffer values averaged over `group`'s
/// processes, in as few collectives as their sizes allow.
fn average_step(
    group: &Group,
    loss: Array,
    grads: Vec<Array>,
    buffers: Vec<Array>,
) -> Result<(Array, Vec<Array>, Vec<Array>), Exception> {
    if group.size() == 1 {
        return Ok((loss, grads, buffers));
    }
    let (n_grads, n_buffers) = (grads.len(), buffers.len());
    let all: Vec<Array> = std::iter::once(loss).chain(grads).chain(buffers).collect();
    let mut averaged = average_gradients(group, &all, GRADIENT_BUCKET_BYTES)?.into_iter();
    let loss = averaged
        .next()
        .ok_or_else(|| Exception::custom("no loss"))?;
    let grads: Vec<Array> = averaged.by_ref().take(n_grads).collect();
    let buffers: Vec<Array> = averaged.take(n_buffers).collect();
    Ok((loss, grads, buffers))
}

/// Whether running `graph` in training mode draws random numbers: a layer
/// whose rule says so, in it or in a nested model.
fn draws_random_numbers(graph: &Graph) -> bool {
    graph.nodes.iter().any(|node| match &node.op {
        Op::Layer(layer) => layer.draws_random_numbers(),
        Op::Model(sub) => draws_random_numbers(sub),
    })
}

/// Fraction of rows whose arg-max over the last axis equals the label.
pub fn accuracy(logits: &Array, labels: &Array) -> Result<f32> {
    let predicted = ops::indexing::argmax_axis(logits, -1, None)?;
    let correct = predicted
        .eq(&labels.as_dtype(predicted.dtype())?)?
        .as_dtype(mlx_rs::Dtype::Float32)?;
    Ok(correct.mean(None)?.item_exact::<f32>())
}

/// The result of one training step.
#[derive(Clone, Debug)]
pub struct StepOutput {
    /// The objective before the update (a scalar).
    pub loss: Array,
}

/// What a train step reads and writes: the weights and the optimizer.
type StepState<O> = (Vec<Array>, O);

type StepFn<O> = Box<dyn FnMut(&mut StepState<O>, &[Array]) -> Result<Vec<Array>, Exception>>;

/// Trains a model with an mlx-rs optimizer, in training mode (dropout on,
/// batch statistics updated).
///
/// In graph mode a step runs as one compiled closure over explicit state:
/// the parameters, the buffers and the optimizer's state go in and come out;
/// the step's random key is an argument; nothing is captured. The trainer's
/// first step (`steps() == 0`) runs eagerly instead, because it creates the
/// optimizer's state, as Python MLX's `optimizer.init` would. A trainer
/// [restored](Self::restore) from a checkpoint taken after step k runs step
/// k + 1 compiled, exactly as the run it continues did, so the two agree
/// bit for bit.
///
/// [`Self::stop_on_non_finite`] makes a step that meets a NaN or infinity
/// an [`Error::Diverged`] that leaves everything as before the step;
/// [`Self::save_checkpoint`] and [`Self::restore`] save and continue a whole
/// run (see [`crate::checkpoint`]).
pub struct Trainer<M: Family, O: Optimizer + 'static> {
    backend: MlxBackend,
    /// The graph it trains: a model's, or a family's instantiation's.
    graph: Arc<Graph>,
    objective: Rc<BoundObjective>,
    trainable: Rc<Vec<usize>>,
    state: Option<StepState<O>>,
    keys: Rc<Vec<Rc<str>>>,
    key: Array,
    /// Whether the graph draws random numbers in training mode; if not, the
    /// key is passed unchanged instead of split every step.
    stochastic: bool,
    /// Whether steps check their values for NaN and infinity.
    stop_on_non_finite: bool,
    /// The processes whose gradients each step averages (one: no averaging).
    group: Group,
    compiled: Option<StepFn<O>>,
    gradients: Option<Program>,
    checked: Vec<Vec<i32>>,
    steps: u64,
    model: PhantomData<M>,
}

impl<M: Model, O: Optimizer + 'static> Trainer<M, O> {
    /// A trainer for `objective` with `optimizer` (e.g. `mlx_rs::optimizers::Adam::new(1e-3)`).
    /// Dropout draws from a key seeded by the backend's seed.
    pub fn new(backend: &MlxBackend, objective: &Objective, optimizer: O) -> Result<Self> {
        Trainer::with_graph(Arc::clone(M::graph()), backend, objective, optimizer)
    }
}

impl<F: Family, O: Optimizer + 'static> Trainer<F, O> {
    /// A trainer of a family's instantiation made at run time
    /// ([`Instance`](crate::Instance)), as [`Trainer::new`] of a model.
    pub fn for_instance(
        instance: &crate::Instance<F>,
        backend: &MlxBackend,
        objective: &Objective,
        optimizer: O,
    ) -> Result<Self> {
        Trainer::with_graph(Arc::clone(instance.graph()), backend, objective, optimizer)
    }
}

impl<M: Family, O: Optimizer + 'static> Trainer<M, O> {
    fn with_graph(
        graph: Arc<Graph>,
        backend: &MlxBackend,
        objective: &Objective,
        optimizer: O,
    ) -> Result<Self> {
        let objective = Rc::new(objective.bind(M::NAME, &graph)?);
        let stochastic = draws_random_numbers(&graph);
        let keys = Rc::new(
            graph
                .weights
                .iter()
                .map(|w| Rc::from(w.path.as_str()))
                .collect(),
        );
        let trainable = Rc::new(
            graph
                .weights
                .iter()
                .enumerate()
                .filter(|(_, w)| w.trainable)
                .map(|(i, _)| i)
                .collect(),
        );
        Ok(Trainer {
            backend: backend.clone(),
            graph,
            objective,
            trainable,
            state: Some((Vec::new(), optimizer)),
            keys,
            key: mlx_rs::random::key(backend.seed() ^ 0x5EED_D20F)?,
            stochastic,
            stop_on_non_finite: false,
            group: Group::single(),
            compiled: None,
            gradients: None,
            checked: Vec::new(),
            steps: 0,
            model: PhantomData,
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The optimizer (its learning rate and state).
    pub fn optimizer(&self) -> Option<&O> {
        self.state.as_ref().map(|(_, o)| o)
    }

    /// With `on`, every later step checks that the loss and every
    /// parameter after the update are finite (a non-finite gradient shows in
    /// its parameter), inside the step: the sums of the parameters and the
    /// loss are tested in the compiled closure and one small bool array
    /// comes back with the loss. A step that meets NaN or infinity returns
    /// [`Error::Diverged`], naming the step and the first value that went
    /// non-finite (a parameter, an input, a layer's output, the loss, a
    /// gradient or an updated parameter, found by re-running the step
    /// eagerly), and is not applied: the parameters, optimizer state,
    /// random key and step count stay as they were, so the last checkpoint
    /// and the parameters in hand are good.
    pub fn stop_on_non_finite(&mut self, on: bool) -> &mut Self {
        if on != self.stop_on_non_finite {
            self.stop_on_non_finite = on;
            // The step's outputs change: trace it again.
            self.compiled = None;
        }
        self
    }

    /// Data-parallel training over `group` (see [`crate::distributed`]):
    /// every step averages the gradients over the group's processes before
    /// the optimizer's update, inside the compiled step (in buckets, as
    /// Python MLX's `nn.average_gradients` does), and reports the loss
    /// averaged over them. Each process steps on its own part of the batch
    /// ([`crate::distributed::shard`]); one step on N processes with b
    /// samples each is one step on one process with their N·b samples.
    /// Buffers (BatchNorm's running statistics) are averaged too, so the
    /// parameters stay identical on every process; checkpoints are written
    /// by rank 0 only. Set it before the first step.
    pub fn data_parallel(&mut self, group: &Group) -> &mut Self {
        self.group = group.clone();
        // The step's computation changes: trace it again.
        self.compiled = None;
        self.gradients = None;
        self
    }

    /// The group set by [`Self::data_parallel`] (a group of one by default).
    pub fn group(&self) -> &Group {
        &self.group
    }

    fn check(&mut self, weights: &[Array], inputs: &[&Array]) -> Result<()> {
        let shapes: Vec<Vec<i32>> = weights
            .iter()
            .chain(inputs.iter().copied())
            .map(|a| a.shape().to_vec())
            .collect();
        if shapes != self.checked {
            check_arrays(&self.graph, weights, inputs)?;
            self.checked = shapes;
        }
        Ok(())
    }

    /// The next step's random key. A graph without dropout never reads it:
    /// it then gets the same key every step, which saves a split (a few
    /// MLX operations evaluated with every step, about 5% of a small
    /// model's compiled step on CPU).
    fn step_key(&mut self) -> Result<Array> {
        if !self.stochastic {
            return Ok(self.key.clone());
        }
        let (next, sub) = mlx_rs::random::split(&self.key, 2)?;
        self.key = next;
        Ok(sub)
    }

    fn runner(&self) -> (Arc<Graph>, Rc<BoundObjective>, RunOptions, Rc<Vec<usize>>) {
        (
            Arc::clone(&self.graph),
            Rc::clone(&self.objective),
            self.backend.run_options(true),
            Rc::clone(&self.trainable),
        )
    }

    /// The objective and its gradients for every parameter, in training mode
    /// and without updating anything (compiled in graph mode): for hand-written
    /// update rules. Buffers (batch statistics) get zero gradients and are
    /// not updated; use [`Self::step`] for models with batch norm.
    pub fn loss_and_gradients(
        &mut self,
        params: &M::Params,
        inputs: &M::Inputs,
        targets: &Array,
    ) -> Result<(Array, M::Params)> {
        self.backend.activate();
        let mut args = params.to_arrays();
        let input_refs = inputs.arrays();
        self.check(&args, &input_refs)?;
        let n_weights = args.len();
        args.extend(input_refs.into_iter().cloned());
        args.push(targets.clone());
        args.push(self.step_key()?);
        let graph_mode = self.backend.graph_mode();
        let (graph, objective, options, trainable) = self.runner();
        let group = self.group.clone();
        let program = self.gradients.get_or_insert_with(|| {
            program(graph_mode, move |args: &[Array]| {
                let [rest @ .., targets, key] = args else {
                    return Err(Exception::custom("missing targets or key"));
                };
                let run = ObjectiveRun {
                    graph: &graph,
                    objective: &objective,
                    options,
                    trainable: &trainable,
                };
                let weights = &rest[..n_weights];
                let (loss, grads, _) =
                    run.value_and_gradients(weights, &rest[n_weights..], targets, key)?;
                let (loss, grads, _) = average_step(&group, loss, grads, Vec::new())?;
                let mut out = vec![loss];
                let mut grads = grads.into_iter();
                for (i, w) in weights.iter().enumerate() {
                    out.push(match trainable.contains(&i) {
                        true => grads
                            .next()
                            .ok_or_else(|| Exception::custom("gradient count"))?,
                        false => ops::zeros_like(w)?,
                    });
                }
                Ok(out)
            })
        });
        let out = program(&args)?;
        if self.group.size() > 1 {
            // The averaging's collectives run now, under the watchdog.
            self.group
                .guarded("gradients", || mlx_rs::transforms::eval(out.iter()))?;
        }
        let mut out = out.into_iter();
        let loss = out.next().ok_or_else(|| Exception::custom("no loss"))?;
        let grads = M::Params::from_weights(&mut out, &self.graph.weights)
            .ok_or_else(|| Exception::custom("gradient count mismatch"))?;
        Ok((loss, grads))
    }

    /// The step as a function of the state (weights, optimizer) and the
    /// arguments (inputs, targets, key): what runs eagerly or compiled. Its
    /// outputs are the loss and, when checking, the finiteness flags.
    fn step_fn(
        &self,
    ) -> impl FnMut(&mut StepState<O>, &[Array]) -> Result<Vec<Array>, Exception> + 'static {
        let (graph, objective, options, trainable) = self.runner();
        let keys = Rc::clone(&self.keys);
        let check_finite = self.stop_on_non_finite;
        let group = self.group.clone();
        move |state: &mut StepState<O>, args: &[Array]| {
            let [inputs @ .., targets, key] = args else {
                return Err(Exception::custom("missing targets or key"));
            };
            let run = ObjectiveRun {
                graph: &graph,
                objective: &objective,
                options,
                trainable: &trainable,
            };
            let (loss, grads, buffer_values) =
                run.value_and_gradients(&state.0, inputs, targets, key)?;
            // Data-parallel: every process applies the same mean update. One
            // averaging for everything keeps the collectives per step few.
            let (loss, grads, buffer_values) = average_step(&group, loss, grads, buffer_values)?;
            let (weights, optimizer) = state;
            for (&i, grad) in trainable.iter().zip(&grads) {
                optimizer.update_single(&keys[i], grad, &mut weights[i])?;
            }
            let buffers = (0..weights.len()).filter(|i| !trainable.contains(i));
            for (i, value) in buffers.zip(buffer_values) {
                weights[i] = value;
            }
            let flags = match check_finite {
                true => Some(divergence::finite_flags(&loss, weights)?),
                false => None,
            };
            Ok([loss].into_iter().chain(flags).collect())
        }
    }

    /// One step: forward (training mode), objective, backward, optimizer
    /// update of the trainable parameters, new batch statistics. A step
    /// that fails leaves the step count and the random key as they were
    /// (and, with [`Self::stop_on_non_finite`], the optimizer's state too).
    pub fn step(
        &mut self,
        params: &mut M::Params,
        inputs: &M::Inputs,
        targets: &Array,
    ) -> Result<StepOutput> {
        self.backend.activate();
        let weights = params.to_arrays();
        let input_refs = inputs.arrays();
        self.check(&weights, &input_refs)?;
        // What a refused step puts back (arrays are shared, not copied).
        let saved = match (self.stop_on_non_finite, self.state.as_mut()) {
            (true, Some((_, optimizer))) => Some(optimizer_state::entries(optimizer)?),
            _ => None,
        };
        let key_before = self.key.clone();
        let mut args: Vec<Array> = input_refs.into_iter().cloned().collect();
        args.push(targets.clone());
        args.push(self.step_key()?);

        let lost = || Exception::custom("trainer state lost after an earlier error");
        let mut state = self.state.take().ok_or_else(lost)?;
        state.0 = weights.clone();
        // Compiled from the second step on: the first creates the
        // optimizer's state (a restored trainer has it already).
        if self.backend.graph_mode() && self.compiled.is_none() && self.steps > 0 {
            let mut compiled = compile_with_state(self.step_fn(), None);
            self.compiled = Some(Box::new(move |s: &mut StepState<O>, a: &[Array]| {
                compiled(s, a)
            }));
        }
        let result = match self.compiled.as_mut() {
            Some(compiled) => compiled(&mut state, &args),
            None => self.step_fn()(&mut state, &args),
        };
        let outcome = result.map_err(Error::from).and_then(|out| {
            let mut out = out.into_iter();
            let loss = out.next().ok_or_else(|| Exception::custom("no loss"))?;
            let flags = out.next();
            let outputs = state.0.iter().chain([&loss]).chain(&flags);
            if flags.is_none() && self.group.size() == 1 {
                // Nothing to inspect before the next step: let MLX run this
                // one while the caller prepares the next (reading the loss
                // waits for it).
                mlx_rs::transforms::async_eval(outputs)?;
            } else {
                let step = format!("step {}", self.steps + 1);
                self.group
                    .guarded(&step, || mlx_rs::transforms::eval(outputs))?;
            }
            if let Some(flags) = &flags {
                self.check_finite(flags, &loss, &weights, &state.0, &args)?;
            }
            *params =
                M::Params::from_weights(&mut state.0.clone().into_iter(), &self.graph.weights)
                    .ok_or_else(|| Exception::custom("parameter count mismatch"))?;
            Ok(StepOutput { loss })
        });
        let rolled_back = match (&outcome, saved) {
            (Ok(_), _) => {
                self.steps += 1;
                Ok(())
            }
            (Err(_), saved) => {
                self.key = key_before;
                saved.map_or(Ok(()), |saved| optimizer_state::set(&mut state.1, saved))
            }
        };
        self.state = Some(state);
        rolled_back?;
        outcome
    }
}

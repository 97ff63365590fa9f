//! What training minimises: a [`Loss`] on one output, reduced, plus
//! penalties on chosen parameters; and its evaluation in training mode.

use mithril_core::graph::Graph;
use mlx_rs::error::Exception;
use mlx_rs::transforms::fallible_vjp;
use mlx_rs::{Array, array, ops};

use super::loss::{Loss, Reduction, loss_value};
use crate::error::{Error, Result};
use crate::lower::RunOptions;
use crate::run::run_graph_training;

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
        self,
        coefficient: f32,
        params: impl IntoIterator<Item = S>,
    ) -> Objective {
        self.penalty(PenaltyKind::L1, coefficient, params)
    }

    /// Adds `coefficient * sum w^2` over the given parameters.
    pub fn l2<S: Into<String>>(
        self,
        coefficient: f32,
        params: impl IntoIterator<Item = S>,
    ) -> Objective {
        self.penalty(PenaltyKind::L2, coefficient, params)
    }

    fn penalty<S: Into<String>>(
        mut self,
        kind: PenaltyKind,
        coefficient: f32,
        params: impl IntoIterator<Item = S>,
    ) -> Objective {
        let params = params.into_iter().map(Into::into).collect();
        self.penalties.push(Penalty {
            kind,
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
    pub(super) fn bind(&self, model: &'static str, graph: &Graph) -> Result<BoundObjective> {
        self.loss.check()?;
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

/// An [`Objective`] resolved against a graph: indices instead of names.
#[derive(Clone)]
pub(super) struct BoundObjective {
    output: usize,
    loss: Loss,
    reduction: Reduction,
    penalties: Vec<(PenaltyKind, f32, Vec<usize>)>,
}

/// What one training-mode evaluation of the objective needs.
pub(super) struct ObjectiveRun<'a> {
    pub(super) graph: &'a Graph,
    pub(super) objective: &'a BoundObjective,
    pub(super) options: RunOptions,
    /// Indices of the trainable weights (the rest are buffers).
    pub(super) trainable: &'a [usize],
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
    pub(super) fn value_and_gradients(
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

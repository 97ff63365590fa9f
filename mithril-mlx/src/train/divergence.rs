//! Catching divergence cheaply: inside the (compiled) step, one sum per
//! parameter after the update and the loss, stacked and tested for
//! finiteness (a NaN or infinity anywhere makes its array's sum
//! non-finite); one small bool array comes back with the loss. Only when a
//! flag is down is the step examined value by value, eagerly, to name what
//! went non-finite first.
//!
//! A non-finite gradient needs no flag of its own: the update carries it
//! into the parameter (SGD and Adam alike), whose sum then shows it.

use std::sync::Arc;

use crate::model::Family;
use mlx_rs::error::Exception;
use mlx_rs::optimizers::Optimizer;
use mlx_rs::{Array, Dtype, ops};

use super::Trainer;
use super::objective::ObjectiveRun;
use crate::error::{Error, Result};

use crate::run::{all_finite, first_non_finite};

/// `[loss, sum(w) for each weight after the update]`, each tested for
/// finiteness: what the step returns beside the loss. Sums are taken in
/// f32, so half-precision weights do not overflow them.
pub(super) fn finite_flags(loss: &Array, weights: &[Array]) -> Result<Array, Exception> {
    let in_f32 = |a: Array| match a.dtype() {
        Dtype::Float32 => Ok(a),
        _ => a.as_dtype(Dtype::Float32),
    };
    let sums = std::iter::once(in_f32(loss.clone()))
        .chain(weights.iter().map(|w| in_f32(w.clone())?.sum(None)))
        .collect::<Result<Vec<_>, _>>()?;
    ops::stack(&sums, 0)?.is_finite()
}

impl<M: Family, O: Optimizer + 'static> Trainer<M, O> {
    /// [`Error::Diverged`] when one of the step's `flags` is down and the
    /// step's `loss` or a weight `after` it is indeed not finite (a flag
    /// also goes down when a sum of finite values overflows f32; then the
    /// step stands). `before` are the weights before the step, `args` its
    /// inputs, targets and key.
    pub(super) fn check_finite(
        &self,
        flags: &Array,
        loss: &Array,
        before: &[Array],
        after: &[Array],
        args: &[Array],
    ) -> Result<()> {
        let flags = flags.try_as_slice::<bool>()?;
        if flags.iter().all(|&ok| ok) {
            return Ok(());
        }
        let shared = Arc::clone(&self.graph);
        let graph: &mithril_core::graph::Graph = &shared;
        let mut updated = Vec::new();
        for (w, value) in graph.weights.iter().zip(after) {
            if !all_finite(value)? {
                updated.push(format!("`{}` after the update", w.path));
            }
        }
        let loss_finite = all_finite(loss)?;
        if loss_finite && updated.is_empty() {
            return Ok(());
        }
        let mut non_finite = self.non_finite_before_update(before, args, loss_finite)?;
        non_finite.extend(updated);
        Err(Error::Diverged {
            step: self.steps + 1,
            first: non_finite[0].clone(),
            non_finite,
        })
    }

    /// What went non-finite on the way to the update, in the order the step
    /// makes it: the first non-finite parameter, input or layer output of
    /// the forward pass, the loss, the gradients. The passes are run again,
    /// eagerly, on the weights `before` the step with the same inputs and
    /// key.
    fn non_finite_before_update(
        &self,
        before: &[Array],
        args: &[Array],
        loss_finite: bool,
    ) -> Result<Vec<String>> {
        let [inputs @ .., targets, key] = args else {
            return Err(Error::Internal(
                "a step's arguments lack the targets or the key",
            ));
        };
        let shared = Arc::clone(&self.graph);
        let graph: &mithril_core::graph::Graph = &shared;
        let options = self.backend.run_options(true);
        let mut found = Vec::new();
        found.extend(first_non_finite(graph, before, inputs, &options, key)?);
        if !loss_finite {
            found.push("the loss".to_string());
        }
        let run = ObjectiveRun {
            graph,
            objective: &self.objective,
            options,
            trainable: &self.trainable,
        };
        let (_, grads, _) = run.value_and_gradients(before, inputs, targets, key)?;
        for (&i, grad) in self.trainable.iter().zip(&grads) {
            if !all_finite(grad)? {
                found.push(format!("the gradient of `{}`", graph.weights[i].path));
            }
        }
        Ok(found)
    }
}

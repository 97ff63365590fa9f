//! Catching divergence: one finiteness flag per checked value, computed
//! inside the (compiled) step so the steady-state cost is a few reductions
//! and one small array read back; naming the culprit only when a flag is
//! down.

use mlx_rs::error::Exception;
use mlx_rs::optimizers::Optimizer;
use mlx_rs::{Array, ops};

use super::Trainer;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::run::first_non_finite;

/// `[loss, gradients..., weights after the update...]`, each `true` when
/// every element is finite: a bool vector the step returns.
pub(super) fn finite_flags(
    loss: &Array,
    grads: &[Array],
    weights: &[Array],
) -> Result<Array, Exception> {
    let flags = std::iter::once(loss)
        .chain(grads)
        .chain(weights)
        .map(|a| a.is_finite()?.all(None))
        .collect::<Result<Vec<_>, _>>()?;
    ops::stack(&flags, 0)
}

impl<M: Model, O: Optimizer + 'static> Trainer<M, O> {
    /// [`Error::Diverged`] when one of the step's `flags` is down. Then the
    /// step is re-run eagerly on `weights` (the parameters before it) and
    /// `args` to find the first input or layer output that is not finite.
    pub(super) fn check_finite(
        &self,
        flags: &Array,
        weights: &[Array],
        args: &[Array],
    ) -> Result<()> {
        let flags = flags
            .try_as_slice::<bool>()
            .map_err(|e| Exception::custom(e.to_string()))?;
        if flags.iter().all(|&ok| ok) {
            return Ok(());
        }
        let graph = M::graph();
        let names = std::iter::once("the loss".to_string())
            .chain(
                self.trainable
                    .iter()
                    .map(|&i| format!("the gradient of `{}`", graph.weights[i].path)),
            )
            .chain(
                graph
                    .weights
                    .iter()
                    .map(|w| format!("`{}` after the update", w.path)),
            );
        let mut non_finite: Vec<String> = names
            .zip(flags)
            .filter(|(_, ok)| !**ok)
            .map(|(name, _)| name)
            .collect();
        if !flags[0] {
            // The forward pass went wrong: find where, in execution order.
            let [inputs @ .., _, key] = args else {
                return Err(Exception::custom("missing targets or key").into());
            };
            let options = self.backend.run_options(true);
            if let Some(culprit) = first_non_finite(graph, weights, inputs, &options, key)? {
                non_finite.insert(0, culprit);
            }
        }
        Err(Error::Diverged {
            step: self.steps + 1,
            first: non_finite[0].clone(),
            non_finite,
        })
    }
}

//! Layers marked `checkpoint`: each application runs inside MLX's
//! checkpoint, so that the backward pass recomputes its forward instead of
//! keeping its intermediate values (less memory for one more forward).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mithril_core::graph::{Node, Op};
use mlx_rs::Array;
use mlx_rs::error::Exception;

use crate::error::{Error, raise};
use crate::lower::{LowerCtx, lower};
use crate::run::{in_layer, run};
use crate::sys;

/// Runs one application of `node` (its inputs, its weights of this
/// application, the output's concrete `shape` for a layer) through MLX's
/// checkpoint; its outputs: a layer's one, a nested model's every output.
///
/// The function MLX keeps for the backward pass owns only the node and
/// plain options: the inputs, the weights and the random key come in as its
/// arguments. It draws its random numbers from a copy of the run's key,
/// which the run then advances as far, so dropout masks are those of the
/// unmarked model, and the recomputation draws the same ones again.
pub(crate) fn application(
    node: &Arc<Node>,
    inputs: &[&Array],
    weights: &[Array],
    shape: Vec<i32>,
    offset: usize,
    ctx: &mut LowerCtx,
) -> Result<Vec<Array>, Exception> {
    let key = ctx
        .key()
        .filter(|_| node.op.draws_random_numbers())
        .cloned();
    let (given, owned) = (inputs.len(), weights.len());
    let args: Vec<Array> = inputs
        .iter()
        .map(|a| (*a).clone())
        .chain(weights.iter().cloned())
        .chain(key)
        .collect();
    let options = ctx.options;
    let drawn = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&drawn);
    let node = Arc::clone(node);
    let outputs = sys::checkpoint(&args, move |args| {
        let (inputs, rest) = args.split_at(given.min(args.len()));
        let (weights, key) = rest.split_at(owned.min(rest.len()));
        // The key is data: no gradient flows into it (nor could: MLX does
        // not differentiate random bits).
        let key = key.first().map(mlx_rs::stop_gradient).transpose()?;
        let mut ctx = LowerCtx::new(options, key);
        let outputs = match &node.op {
            Op::Layer(layer) => {
                let inputs: Vec<&Array> = inputs.iter().collect();
                ctx.weight_offset = offset;
                vec![
                    lower(layer, &inputs, weights, &shape, &mut ctx)
                        .map_err(|e| in_layer(&node, e))?,
                ]
            }
            Op::Model(sub) => run(sub, weights, inputs, &mut ctx, offset, None)?,
        };
        // Graphs refuse `checkpoint` on layers that update buffers.
        if !ctx.updates.is_empty() {
            return Err(raise(Error::Internal(
                "a layer recomputed in the backward pass updated buffers",
            )));
        }
        counter.store(ctx.draws(), Ordering::Relaxed);
        Ok(outputs)
    })?;
    ctx.skip_draws(drawn.load(Ordering::Relaxed))?;
    Ok(outputs)
}

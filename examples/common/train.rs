//! The examples' training loop: one compiled step per batch.

use mithril::Model;
use mithril::optimizers::Optimizer;
use mithril::prelude::*;
use mithril::train::Trainer;

use super::Error;
use super::mnist::{self, MnistRun};

/// One step of `trainer` on `batch` (inputs and targets): its loss.
pub fn step<M: Model, O: Optimizer + 'static>(
    trainer: &mut Trainer<M, O>,
    params: &mut M::Params,
    (inputs, targets): &(M::Inputs, Array),
) -> Result<f32, Error> {
    Ok(trainer
        .step(params, inputs, targets)?
        .loss
        .try_item_cast::<f32>()?)
}

/// One pass of `trainer` over the training digits `order` of `run` in its
/// batches (the last one shorter), as images of shape `image`: the mean of
/// the batches' losses.
pub fn epoch<M: Model, O: Optimizer + 'static>(
    trainer: &mut Trainer<M, O>,
    params: &mut M::Params,
    run: &MnistRun,
    order: &[usize],
    image: &[i32],
) -> Result<f32, Error> {
    let mut losses = Vec::new();
    for indices in order.chunks(run.batch_size) {
        let batch = mnist::batch::<M>(&run.train, indices, image)?;
        losses.push(step(trainer, params, &batch)?);
    }
    Ok(losses.iter().sum::<f32>() / losses.len().max(1) as f32)
}

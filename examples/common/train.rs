//! The examples' training loop: one compiled step per batch.

use mithril::Model;
use mithril::optimizers::Optimizer;
use mithril::prelude::*;
use mithril::train::Trainer;
use mithril_datasets::Mnist;

use super::{Error, mnist};

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

/// One pass of `trainer` over the digits `order` of `data` in batches of
/// `batch_size` (the last one shorter): the mean of the batches' losses.
pub fn epoch<M: Model, O: Optimizer + 'static>(
    trainer: &mut Trainer<M, O>,
    params: &mut M::Params,
    data: &Mnist,
    order: &[usize],
    batch_size: usize,
    image: &[i32],
) -> Result<f32, Error> {
    let mut losses = Vec::new();
    for indices in order.chunks(batch_size) {
        let batch = mnist::batch::<M>(data, indices, image)?;
        losses.push(step(trainer, params, &batch)?);
    }
    Ok(losses.iter().sum::<f32>() / losses.len().max(1) as f32)
}

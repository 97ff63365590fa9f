//! Metrics of a model's outputs against the labels.

use mlx_rs::{Array, ops};

use crate::error::Result;

/// Fraction of rows whose arg-max over the last axis equals the label.
pub fn accuracy(logits: &Array, labels: &Array) -> Result<f32> {
    let predicted = ops::indexing::argmax_axis(logits, -1, None)?;
    let correct = predicted
        .eq(&labels.as_dtype(predicted.dtype())?)?
        .as_dtype(mlx_rs::Dtype::Float32)?;
    Ok(correct.mean(None)?.item_exact::<f32>())
}

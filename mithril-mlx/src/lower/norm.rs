//! The normalisations and `Dropout` (mithril-core's `layers/norm.rs`), as
//! mlx.nn computes them.

use mithril_core::layers::{BatchNorm, Dropout, GroupNorm, LayerNorm, RmsNorm};
use mlx_rs::error::Exception;
use mlx_rs::{Array, fast, ops};

use super::{Call, Lower, scalar};
use crate::kernel::{self, Route};

/// mlx.nn.BatchNorm: statistics over every axis but the last. In training,
/// normalises with the batch's mean and (biased) variance and records the
/// new running statistics (outside the gradient); at inference, uses them.
impl Lower for BatchNorm {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        let (affine, stats) = call.weights.split_at(if self.affine { 2 } else { 0 });
        let (running_mean, running_var) = (&stats[0], &stats[1]);
        let eps = Array::from_f32(self.eps as f32);
        let options = call.ctx.options;
        let y = options.accumulated(x, |x| {
            let (mean, var) = if options.training {
                let axes: Vec<i32> = (0..x.ndim() as i32 - 1).collect();
                (x.mean_axes(&axes, None)?, x.var_axes(&axes, None, None)?)
            } else {
                (
                    running_mean.as_dtype(x.dtype())?,
                    running_var.as_dtype(x.dtype())?,
                )
            };
            if options.training {
                let m = Array::from_f32(self.momentum as f32);
                let keep = Array::from_f32(1.0 - self.momentum as f32);
                let blend = |old: &Array, new: &Array| -> Result<Array, Exception> {
                    let new = mlx_rs::stop_gradient(new)?.as_dtype(old.dtype())?;
                    old.multiply(&keep)?
                        .add(new.multiply(&m)?)?
                        .as_dtype(old.dtype())
                };
                call.ctx
                    .update(usize::from(self.affine) * 2, blend(running_mean, &mean)?);
                call.ctx
                    .update(usize::from(self.affine) * 2 + 1, blend(running_var, &var)?);
            }
            x.subtract(&mean)?.multiply(ops::rsqrt(var.add(&eps)?)?)
        })?;
        if self.affine {
            y.multiply(&affine[0])?.add(&affine[1])
        } else {
            Ok(y)
        }
    }
}

/// mlx.nn.LayerNorm: `mx.fast.layer_norm(x, weight, bias, eps)`; on MLX's
/// CUDA build on the GPU, the fused kernels of `kernel::layer_norm`.
impl Lower for LayerNorm {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let weight = self.affine.then(|| &call.weights[0]);
        let bias = (self.affine && self.bias).then(|| &call.weights[1]);
        Ok(kernel::layer_norm(
            call.x(),
            weight,
            bias,
            self.eps as f32,
            Route::Auto,
        )?)
    }
}

/// mlx.nn.RMSNorm: `mx.fast.rms_norm(x, weight, eps)`.
impl Lower for RmsNorm {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        fast::rms_norm(call.x(), Some(&call.weights[0]), self.eps as f32)
    }
}

/// mlx.nn.GroupNorm, both groupings, then `weight * x + bias` when affine.
impl Lower for GroupNorm {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        let shape = x.shape().to_vec();
        let (batch, dims) = (shape[0], shape[shape.len() - 1]);
        let groups = self.groups as i32;
        let y = call.ctx.options.accumulated(x, |x| {
            if self.pytorch_compatible {
                let size = dims / groups;
                let grouped = x
                    .reshape(&[batch, -1, groups, size])?
                    .transpose_axes(&[0, 2, 1, 3])?
                    .reshape(&[batch, groups, -1])?;
                fast::layer_norm(&grouped, None, None, self.eps as f32)?
                    .reshape(&[batch, groups, -1, size])?
                    .transpose_axes(&[0, 2, 1, 3])?
                    .reshape(&shape)
            } else {
                let grouped = x.reshape(&[batch, -1, groups])?;
                let mean = grouped.mean_axes(&[1], true)?;
                let var = grouped.var_axes(&[1], true, None)?;
                let eps = scalar(self.eps, &var)?;
                grouped
                    .subtract(&mean)?
                    .multiply(ops::rsqrt(&var.add(&eps)?)?)?
                    .reshape(&shape)
            }
        })?;
        if self.affine {
            call.weights[0].multiply(&y)?.add(&call.weights[1])
        } else {
            Ok(y)
        }
    }
}

/// mlx.nn.Dropout: in training, keeps each element with probability `1 - p`
/// and scales by `1 / (1 - p)`, drawing from the run's key; the identity at
/// inference.
impl Lower for Dropout {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        if !call.ctx.options.training || self.p == 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 - self.p as f32;
        let key = call.ctx.next_key()?;
        let mask = mlx_rs::random::bernoulli(&Array::from_f32(keep), x.shape(), &key)?;
        x.multiply(mask.as_dtype(x.dtype())?)?
            .multiply(Array::from_f32(1.0 / keep).as_dtype(x.dtype())?)
    }
}

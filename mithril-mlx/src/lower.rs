//! One lowering per catalogue layer: how each runs as MLX ops.

use mithril_core::layers::{
    Add, AvgPool2d, BatchNorm, Concat, Conv2d, Dropout, Flatten, Gelu, Lambda, Layer, LeakyRelu,
    Linear, LogSoftmax, MatMul, MaxPool2d, Multiply, Relu, Reshape, Sigmoid, Softmax, Subtract,
    Tanh,
};
use mlx_rs::error::Exception;
use mlx_rs::ops::{self, indexing::IndexOp};
use mlx_rs::{Array, nn};

use crate::model::custom_fn;

mod extra;
mod sequence;

/// How a graph runs: what the backend's configuration means for lowering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Where set, numerically sensitive layers (softmax, log-softmax, norms,
    /// losses) compute in this dtype and cast back (e.g. f16 storage with f32
    /// accumulation).
    pub accumulate: Option<mlx_rs::Dtype>,
    /// Training (dropout active, batch statistics) or inference.
    pub training: bool,
    /// Where set, weights and floating-point inputs are cast to this dtype
    /// before the graph runs: the parameters stay in a wider dtype (master
    /// weights, which the optimizer updates) while activations use this one.
    pub compute: Option<mlx_rs::Dtype>,
}

impl RunOptions {
    /// Runs `f` on `x` in the accumulation dtype, casting the result back.
    pub fn accumulated(
        &self,
        x: &Array,
        f: impl FnOnce(&Array) -> Result<Array, Exception>,
    ) -> Result<Array, Exception> {
        match self.accumulate {
            Some(dtype) if dtype != x.dtype() => f(&x.as_dtype(dtype)?)?.as_dtype(x.dtype()),
            _ => f(x),
        }
    }
}

/// What a lowering may need beyond its inputs and weights: the run options,
/// random keys (dropout), and a place to put updated buffers (batch statistics).
pub struct LowerCtx {
    /// How the graph runs.
    pub options: RunOptions,
    key: Option<Array>,
    /// New buffer values, by index into the graph's weights.
    pub updates: Vec<(usize, Array)>,
    /// Index of the current layer's first weight in the graph's weights.
    pub weight_offset: usize,
}

impl LowerCtx {
    /// A context for one run.
    pub fn new(options: RunOptions, key: Option<Array>) -> LowerCtx {
        LowerCtx {
            options,
            key,
            updates: Vec::new(),
            weight_offset: 0,
        }
    }

    /// A fresh key for a stochastic layer (split from the run's key).
    pub fn next_key(&mut self) -> Result<Array, Exception> {
        let key = self.key.as_ref().ok_or_else(|| {
            Exception::custom("a stochastic layer ran in training mode without a random key")
        })?;
        let (next, sub) = mlx_rs::random::split(key, 2)?;
        self.key = Some(next);
        Ok(sub)
    }

    /// Records a new value for the current layer's weight `local` (a buffer).
    pub fn update(&mut self, local: usize, value: Array) {
        self.updates.push((self.weight_offset + local, value));
    }
}

/// Runs `layer` on `inputs` with its parameters `weights` (in the order of its
/// `WeightSpec`s). `out_shape` is the output's concrete shape, which the
/// graph computed with the layer's shape rule.
pub fn lower(
    layer: &Layer,
    inputs: &[&Array],
    weights: &[Array],
    out_shape: &[i32],
    ctx: &mut LowerCtx,
) -> Result<Array, Exception> {
    let options = ctx.options;
    let x = inputs[0];
    match layer {
        Layer::Linear(Linear { bias, .. }) => {
            if *bias {
                ops::addmm(&weights[1], x, weights[0].t(), None, None)
            } else {
                ops::matmul(x, weights[0].t())
            }
        }
        Layer::Conv2d(conv @ Conv2d { bias, .. }) => {
            let pad = conv.padding.amounts(conv.kernel, conv.dilation);
            let y = ops::conv2d(
                x,
                &weights[0],
                (conv.stride[0] as i32, conv.stride[1] as i32),
                (pad[0] as i32, pad[1] as i32),
                (conv.dilation[0] as i32, conv.dilation[1] as i32),
                None,
            )?;
            if *bias { y.add(&weights[1]) } else { Ok(y) }
        }
        Layer::MaxPool2d(MaxPool2d(pool)) => {
            let padded = pad_spatial(x, pool.padding, f32::NEG_INFINITY)?;
            let (windows, axes) = windows(&padded, pool.kernel, pool.stride, out_shape)?;
            windows.max_axes(&axes, None)
        }
        Layer::AvgPool2d(AvgPool2d(pool)) => {
            let padded = pad_spatial(x, pool.padding, 0.0)?;
            let (windows, axes) = windows(&padded, pool.kernel, pool.stride, out_shape)?;
            windows.mean_axes(&axes, None)
        }
        Layer::Flatten(Flatten { .. }) | Layer::Reshape(Reshape { .. }) => x.reshape(out_shape),
        Layer::Relu(Relu) => nn::relu(x),
        Layer::LeakyRelu(LeakyRelu { negative_slope }) => nn::leaky_relu(x, *negative_slope as f32),
        Layer::Gelu(Gelu) => nn::gelu(x),
        Layer::Sigmoid(Sigmoid) => ops::sigmoid(x),
        Layer::Tanh(Tanh) => ops::tanh(x),
        Layer::Softmax(Softmax { axis }) => {
            options.accumulated(x, |x| ops::softmax_axis(x, *axis as i32, None))
        }
        Layer::LogSoftmax(LogSoftmax { axis }) => {
            options.accumulated(x, |x| nn::log_softmax(x, *axis as i32))
        }
        Layer::Add(Add) => x.add(inputs[1]),
        Layer::Subtract(Subtract) => x.subtract(inputs[1]),
        Layer::Multiply(Multiply) => x.multiply(inputs[1]),
        Layer::MatMul(MatMul) => ops::matmul(x, inputs[1]),
        Layer::Concat(Concat { axis }) => ops::concatenate(inputs, *axis as i32),
        Layer::Lambda(Lambda {
            function, handle, ..
        }) => match custom_fn(handle) {
            Some(f) => f(x),
            None => Err(Exception::custom(format!(
                "custom op `{function}` has no function attached"
            ))),
        },
        Layer::BatchNorm(bn) => batch_norm(bn, x, weights, ctx),
        Layer::Conv1d(conv) => extra::conv1d(conv, x, weights),
        Layer::MaxPool1d(pool) => extra::pool1d(&pool.0, true, x, out_shape),
        Layer::AvgPool1d(pool) => extra::pool1d(&pool.0, false, x, out_shape),
        Layer::Embedding(l) => extra::embedding(l, x, weights),
        Layer::LayerNorm(l) => extra::layer_norm(l, x, weights),
        Layer::RmsNorm(l) => extra::rms_norm(l, x, weights),
        Layer::GroupNorm(l) => extra::group_norm(l, x, weights, &options),
        Layer::Softplus(_) => extra::softplus(x),
        Layer::Silu(_) => extra::silu(x),
        Layer::GeluApprox(_) => extra::gelu_approx(x),
        Layer::GeluFast(_) => extra::gelu_fast(x),
        Layer::Permute(l) => extra::permute(l, x),
        Layer::Transpose(l) => extra::transpose(l, x),
        Layer::Squeeze(l) => extra::squeeze(l, x),
        Layer::Unsqueeze(l) => extra::unsqueeze(l, x),
        Layer::Slice(l) => extra::slice(l, x),
        Layer::Cast(l) => extra::cast(l, x),
        Layer::Mean(l) => extra::reduce(extra::Reduce::Mean, &l.0, x),
        Layer::Sum(l) => extra::reduce(extra::Reduce::Sum, &l.0, x),
        Layer::Max(l) => extra::reduce(extra::Reduce::Max, &l.0, x),
        Layer::ScaledDotProductAttention(l) => sequence::sdpa(l, inputs),
        Layer::MultiHeadAttention(l) => sequence::multi_head(l, inputs, weights),
        Layer::Rope(l) => sequence::rope(l, x),
        Layer::Lstm(l) => sequence::lstm(l, x, weights, out_shape),
        Layer::Gru(l) => sequence::gru(l, x, weights, out_shape),
        Layer::Dropout(Dropout { p }) => {
            if !options.training || *p == 0.0 {
                return Ok(x.clone());
            }
            let keep = 1.0 - *p as f32;
            let key = ctx.next_key()?;
            let mask = mlx_rs::random::bernoulli(&Array::from_f32(keep), x.shape(), &key)?;
            x.multiply(mask.as_dtype(x.dtype())?)?
                .multiply(Array::from_f32(1.0 / keep).as_dtype(x.dtype())?)
        }
    }
}

/// mlx.nn.BatchNorm: statistics over every axis but the last. In training,
/// normalises with the batch's mean and (biased) variance and records the
/// new running statistics (outside the gradient); at inference, uses them.
fn batch_norm(
    bn: &BatchNorm,
    x: &Array,
    weights: &[Array],
    ctx: &mut LowerCtx,
) -> Result<Array, Exception> {
    let (affine, stats) = weights.split_at(if bn.affine { 2 } else { 0 });
    let (running_mean, running_var) = (&stats[0], &stats[1]);
    let eps = Array::from_f32(bn.eps as f32);
    let options = ctx.options;
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
            let m = Array::from_f32(bn.momentum as f32);
            let keep = Array::from_f32(1.0 - bn.momentum as f32);
            let blend = |old: &Array, new: &Array| -> Result<Array, Exception> {
                let new = mlx_rs::stop_gradient(new)?.as_dtype(old.dtype())?;
                old.multiply(&keep)?
                    .add(new.multiply(&m)?)?
                    .as_dtype(old.dtype())
            };
            ctx.update(usize::from(bn.affine) * 2, blend(running_mean, &mean)?);
            ctx.update(usize::from(bn.affine) * 2 + 1, blend(running_var, &var)?);
        }
        x.subtract(&mean)?
            .multiply(mlx_rs::ops::rsqrt(var.add(&eps)?)?)
    })?;
    if bn.affine {
        y.multiply(&affine[0])?.add(&affine[1])
    } else {
        Ok(y)
    }
}

/// Pads the two spatial axes of an NHWC array.
fn pad_spatial(x: &Array, pad: [usize; 2], value: f32) -> Result<Array, Exception> {
    if pad == [0, 0] {
        return Ok(x.clone());
    }
    let (h, w) = (pad[0] as i32, pad[1] as i32);
    let widths: &[(i32, i32)] = &[(0, 0), (h, h), (w, w), (0, 0)];
    ops::pad(x, widths, Array::from_f32(value).as_dtype(x.dtype())?, None)
}

/// Sliding windows of an NHWC array, and the two axes that span each window.
///
/// Non-overlapping windows (stride == kernel) are a reshape to
/// [N, H', kh, W', kw, C], which MLX reduces far faster than the strided view
/// [N, H', W', kh, kw, C] that overlapping windows need.
fn windows(
    x: &Array,
    kernel: [usize; 2],
    stride: [usize; 2],
    out_shape: &[i32],
) -> Result<(Array, [i32; 2]), Exception> {
    let shape = x.shape();
    let (n, c) = (shape[0], shape[3]);
    let (ho, wo) = (out_shape[1], out_shape[2]);
    let (kh, kw) = (kernel[0] as i32, kernel[1] as i32);
    if stride == kernel {
        let cropped = if shape[1] == ho * kh && shape[2] == wo * kw {
            x.clone()
        } else {
            x.index((.., ..ho * kh, ..wo * kw, ..))
        };
        return Ok((cropped.reshape(&[n, ho, kh, wo, kw, c])?, [2, 4]));
    }
    let (w, c64) = (shape[2] as i64, c as i64);
    let h = shape[1] as i64;
    let strides = [
        h * w * c64,
        stride[0] as i64 * w * c64,
        stride[1] as i64 * c64,
        w * c64,
        c64,
        1,
    ];
    Ok((
        ops::as_strided(x, &[n, ho, wo, kh, kw, c][..], &strides[..], None)?,
        [3, 4],
    ))
}

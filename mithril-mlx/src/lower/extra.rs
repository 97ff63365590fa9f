//! Lowerings of the 1-D convolution and pools, `Embedding`, the layer,
//! RMS and group norms, the extra activations, the layout ops and the
//! reductions, written as mlx.nn / mlx.core write them.

use mithril_core::layers::{
    Cast, CastDtype, Conv1d, Embedding, GroupNorm, LayerNorm, Permute, Pool1d, Reduction, RmsNorm,
    Slice, Squeeze, Transpose, Unsqueeze,
};
use mlx_rs::error::Exception;
use mlx_rs::ops::indexing::{ArrayIndex, ArrayIndexOp, IntoStrideBy, TryIndexOp};
use mlx_rs::ops::{self};
use mlx_rs::{Array, Dtype, fast};

use super::RunOptions;

/// A scalar of `like`'s dtype, as a Python float is in MLX arithmetic.
fn scalar(value: f64, like: &Array) -> Result<Array, Exception> {
    if like.dtype() == Dtype::Float64 {
        Ok(Array::from_f64(value))
    } else {
        Array::from_f32(value as f32).as_dtype(like.dtype())
    }
}

/// mlx.nn.Conv1d: `mx.conv1d(x, weight, stride, padding, dilation) + bias`.
pub fn conv1d(conv: &Conv1d, x: &Array, weights: &[Array]) -> Result<Array, Exception> {
    let y = ops::conv1d(
        x,
        &weights[0],
        conv.stride as i32,
        conv.pad() as i32,
        conv.dilation as i32,
        None,
    )?;
    if conv.bias { y.add(&weights[1]) } else { Ok(y) }
}

/// mlx.nn.MaxPool1d / AvgPool1d on NLC input: pads the length axis (with
/// -inf for max, 0 for average), takes sliding windows, reduces each.
pub fn pool1d(pool: &Pool1d, max: bool, x: &Array, out_shape: &[i32]) -> Result<Array, Exception> {
    let padded = if pool.padding == 0 {
        x.clone()
    } else {
        let p = pool.padding as i32;
        let value = if max { f32::NEG_INFINITY } else { 0.0 };
        ops::pad(
            x,
            &[(0, 0), (p, p), (0, 0)][..],
            Array::from_f32(value).as_dtype(x.dtype())?,
            None,
        )?
    };
    let shape = padded.shape().to_vec();
    let (n, l, c) = (shape[0], shape[1], shape[2]);
    let (k, s, lo) = (pool.kernel as i32, pool.stride as i32, out_shape[1]);
    let windows = if pool.kernel == pool.stride {
        // Non-overlapping windows are a reshape, as in mlx.nn.
        let cropped = if l == lo * k {
            padded
        } else {
            padded.try_index((.., ..lo * k, ..))?
        };
        cropped.reshape(&[n, lo, k, c])?
    } else {
        let (l, c64) = (l as i64, c as i64);
        let strides = [l * c64, s as i64 * c64, c64, 1];
        ops::as_strided(&padded, &[n, lo, k, c][..], &strides[..], None)?
    };
    if max {
        windows.max_axes(&[2], None)
    } else {
        windows.mean_axes(&[2], None)
    }
}

/// Whether `dtype` holds integers.
fn is_integer(dtype: Dtype) -> bool {
    matches!(
        dtype,
        Dtype::Int8
            | Dtype::Int16
            | Dtype::Int32
            | Dtype::Int64
            | Dtype::Uint8
            | Dtype::Uint16
            | Dtype::Uint32
            | Dtype::Uint64
    )
}

/// mlx.nn.Embedding: `weight[x]`. The indices carry no gradient (their
/// cotangent is zero), and must be integers: anything else is an error.
pub fn embedding(layer: &Embedding, x: &Array, weights: &[Array]) -> Result<Array, Exception> {
    if !is_integer(x.dtype()) {
        return Err(Exception::custom(format!(
            "`Embedding({}, {})` needs integer indices (e.g. int32), but its input has dtype {:?}",
            layer.vocab,
            layer.dims,
            x.dtype()
        )));
    }
    weights[0].take_axis(mlx_rs::stop_gradient(x)?, 0)
}

/// mlx.nn.LayerNorm: `mx.fast.layer_norm(x, weight, bias, eps)`.
pub fn layer_norm(layer: &LayerNorm, x: &Array, weights: &[Array]) -> Result<Array, Exception> {
    let weight = layer.affine.then(|| &weights[0]);
    let bias = (layer.affine && layer.bias).then(|| &weights[1]);
    fast::layer_norm(x, weight, bias, layer.eps as f32)
}

/// mlx.nn.RMSNorm: `mx.fast.rms_norm(x, weight, eps)`.
pub fn rms_norm(layer: &RmsNorm, x: &Array, weights: &[Array]) -> Result<Array, Exception> {
    fast::rms_norm(x, Some(&weights[0]), layer.eps as f32)
}

/// mlx.nn.GroupNorm, both groupings, then `weight * x + bias` when affine.
pub fn group_norm(
    layer: &GroupNorm,
    x: &Array,
    weights: &[Array],
    options: &RunOptions,
) -> Result<Array, Exception> {
    let shape = x.shape().to_vec();
    let (batch, dims) = (shape[0], shape[shape.len() - 1]);
    let groups = layer.groups as i32;
    let y = options.accumulated(x, |x| {
        if layer.pytorch_compatible {
            let size = dims / groups;
            let grouped = x
                .reshape(&[batch, -1, groups, size])?
                .transpose_axes(&[0, 2, 1, 3])?
                .reshape(&[batch, groups, -1])?;
            fast::layer_norm(&grouped, None, None, layer.eps as f32)?
                .reshape(&[batch, groups, -1, size])?
                .transpose_axes(&[0, 2, 1, 3])?
                .reshape(&shape)
        } else {
            let grouped = x.reshape(&[batch, -1, groups])?;
            let mean = grouped.mean_axes(&[1], true)?;
            let var = grouped.var_axes(&[1], true, None)?;
            let eps = scalar(layer.eps, &var)?;
            grouped
                .subtract(&mean)?
                .multiply(ops::rsqrt(&var.add(&eps)?)?)?
                .reshape(&shape)
        }
    })?;
    if layer.affine {
        weights[0].multiply(&y)?.add(&weights[1])
    } else {
        Ok(y)
    }
}

/// mlx.nn.softplus: `mx.logaddexp(x, 0)`.
pub fn softplus(x: &Array) -> Result<Array, Exception> {
    ops::logaddexp(x, scalar(0.0, x)?)
}

/// mlx.nn.silu: `x * mx.sigmoid(x)`.
pub fn silu(x: &Array) -> Result<Array, Exception> {
    x.multiply(ops::sigmoid(x)?)
}

/// mlx.nn.gelu_approx:
/// `0.5 * x * (1 + mx.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))`.
pub fn gelu_approx(x: &Array) -> Result<Array, Exception> {
    let c = (2.0 / std::f64::consts::PI).sqrt();
    let cube = x.power(scalar(3.0, x)?)?;
    let inner = x.add(scalar(0.044715, x)?.multiply(&cube)?)?;
    let t = ops::tanh(&scalar(c, x)?.multiply(&inner)?)?;
    scalar(0.5, x)?
        .multiply(x)?
        .multiply(scalar(1.0, x)?.add(&t)?)
}

/// mlx.nn.gelu_fast_approx: `x * mx.sigmoid(1.702 * x)`.
pub fn gelu_fast(x: &Array) -> Result<Array, Exception> {
    x.multiply(ops::sigmoid(&scalar(1.702, x)?.multiply(x)?)?)
}

/// `mx.transpose(x, axes)`.
pub fn permute(layer: &Permute, x: &Array) -> Result<Array, Exception> {
    let axes: Vec<i32> = layer.resolved(x.ndim()).iter().map(|&a| a as i32).collect();
    x.transpose_axes(&axes)
}

/// `mx.swapaxes(x, a, b)`.
pub fn transpose(layer: &Transpose, x: &Array) -> Result<Array, Exception> {
    x.swap_axes(layer.a as i32, layer.b as i32)
}

/// `mx.squeeze(x, axis)`.
pub fn squeeze(layer: &Squeeze, x: &Array) -> Result<Array, Exception> {
    x.squeeze_axes(&[layer.axis as i32])
}

/// `mx.expand_dims(x, axis)`.
pub fn unsqueeze(layer: &Unsqueeze, x: &Array) -> Result<Array, Exception> {
    x.expand_dims(layer.axis as i32)
}

/// `x[.., start:end:step]` along the layer's axis.
pub fn slice(layer: &Slice, x: &Array) -> Result<Array, Exception> {
    let rank = x.ndim() as i64;
    let axis = if layer.axis < 0 {
        layer.axis + rank
    } else {
        layer.axis
    } as usize;
    let size = x.shape()[axis] as usize;
    let (start, end) = layer.range(size).ok_or_else(|| {
        Exception::custom(format!(
            "`Slice` cannot take {}..{:?} of an axis of size {size}",
            layer.start, layer.end
        ))
    })?;
    let mut index: Vec<ArrayIndexOp<'_>> = (0..axis).map(|_| (..).index_op()).collect();
    index.push(
        (start as i32..end as i32)
            .stride_by(layer.step as i32)
            .index_op(),
    );
    x.try_index(&index[..])
}

/// `x.astype(dtype)`.
pub fn cast(layer: &Cast, x: &Array) -> Result<Array, Exception> {
    x.as_dtype(match layer.dtype {
        CastDtype::F32 => Dtype::Float32,
        CastDtype::F16 => Dtype::Float16,
        CastDtype::Bf16 => Dtype::Bfloat16,
    })
}

/// Which reduction.
#[derive(Clone, Copy, Debug)]
pub enum Reduce {
    /// `mx.mean`
    Mean,
    /// `mx.sum`
    Sum,
    /// `mx.max`
    Max,
}

/// `mx.mean` / `mx.sum` / `mx.max` over the layer's axes.
pub fn reduce(kind: Reduce, layer: &Reduction, x: &Array) -> Result<Array, Exception> {
    let axes: Vec<i32> = layer.resolved(x.ndim()).iter().map(|&a| a as i32).collect();
    match kind {
        Reduce::Mean => x.mean_axes(&axes, layer.keepdims),
        Reduce::Sum => x.sum_axes(&axes, layer.keepdims),
        Reduce::Max => x.max_axes(&axes, layer.keepdims),
    }
}

//! The layout ops and `Cast` (mithril-core's `layers/shape_ops.rs`), as
//! mlx.core computes them.

use mithril_core::layers::{Cast, CastDtype, Permute, Slice, Squeeze, Transpose, Unsqueeze};
use mlx_rs::error::Exception;
use mlx_rs::ops::indexing::{ArrayIndex, ArrayIndexOp, IntoStrideBy, TryIndexOp};
use mlx_rs::{Array, Dtype};

use super::{Call, Lower, refuse};

/// `mx.transpose(x, axes)`.
impl Lower for Permute {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let (layer, x) = (self, call.x());
        let axes: Vec<i32> = layer.resolved(x.ndim()).iter().map(|&a| a as i32).collect();
        x.transpose_axes(&axes)
    }
}

/// `mx.swapaxes(x, a, b)`.
impl Lower for Transpose {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let (layer, x) = (self, call.x());
        x.swap_axes(layer.a as i32, layer.b as i32)
    }
}

/// `mx.squeeze(x, axis)`.
impl Lower for Squeeze {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let (layer, x) = (self, call.x());
        x.squeeze_axes(&[layer.axis as i32])
    }
}

/// `mx.expand_dims(x, axis)`.
impl Lower for Unsqueeze {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let (layer, x) = (self, call.x());
        x.expand_dims(layer.axis as i32)
    }
}

/// `x[.., start:end:step]` along the layer's axis.
impl Lower for Slice {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let (layer, x) = (self, call.x());
        let rank = x.ndim() as i64;
        let axis = if layer.axis < 0 {
            layer.axis + rank
        } else {
            layer.axis
        } as usize;
        let size = x.shape()[axis] as usize;
        let (start, end) = layer.range(size).ok_or_else(|| {
            refuse(format!(
                "cannot take {}..{:?} of an axis of size {size}",
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
}

/// `x.astype(dtype)`.
impl Lower for Cast {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let (layer, x) = (self, call.x());
        x.as_dtype(match layer.dtype {
            CastDtype::F32 => Dtype::Float32,
            CastDtype::F16 => Dtype::Float16,
            CastDtype::Bf16 => Dtype::Bfloat16,
        })
    }
}

//! The pools (mithril-core's `layers/pool.rs`): padding, sliding windows,
//! and a max or a mean over each window, as mlx.nn computes them. An
//! unbatched input runs as a batch of one.

use mithril_core::layers::{AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d, Pool1d, Pool2d, Sides};
use mlx_rs::error::Exception;
use mlx_rs::ops::indexing::{IndexOp, TryIndexOp};
use mlx_rs::{Array, ops};

use super::{Call, Lower};

impl Lower for MaxPool2d {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        batched(call, 4, |x, out| pool2d(&self.0, true, x, out))
    }
}

impl Lower for AvgPool2d {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        batched(call, 4, |x, out| pool2d(&self.0, false, x, out))
    }
}

impl Lower for MaxPool1d {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        batched(call, 3, |x, out| pool1d(&self.0, true, x, out))
    }
}

impl Lower for AvgPool1d {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        batched(call, 3, |x, out| pool1d(&self.0, false, x, out))
    }
}

/// Runs `pool` on the input with a batch axis: as it is when it has `rank`
/// axes, else with a batch of one added and removed again.
fn batched(
    call: &Call<'_>,
    rank: usize,
    pool: impl FnOnce(&Array, &[i32]) -> Result<Array, Exception>,
) -> Result<Array, Exception> {
    let x = call.x();
    if x.ndim() == rank {
        return pool(x, call.out_shape);
    }
    let out: Vec<i32> = std::iter::once(1)
        .chain(call.out_shape.iter().copied())
        .collect();
    pool(&x.expand_dims(0)?, &out)?.squeeze_axes(&[0])
}

/// mlx.nn.MaxPool2d / AvgPool2d on NHWC input: pads H and W (with -inf for
/// max, 0 for average), takes sliding windows, reduces each.
fn pool2d(pool: &Pool2d, max: bool, x: &Array, out_shape: &[i32]) -> Result<Array, Exception> {
    let value = if max { f32::NEG_INFINITY } else { 0.0 };
    let padded = pad_axes(x, &pool.padding, value)?;
    let (windows, axes) = windows(&padded, pool.kernel, pool.stride, out_shape)?;
    if max {
        windows.max_axes(&axes, None)
    } else {
        windows.mean_axes(&axes, None)
    }
}

/// Pads the spatial axes `1..` of a batched array, `(before, after)` each.
fn pad_axes(x: &Array, pads: &[Sides], value: f32) -> Result<Array, Exception> {
    if pads.iter().all(|&p| p == (0, 0)) {
        return Ok(x.clone());
    }
    let mut widths = vec![(0, 0); x.ndim()];
    for (i, &(a, b)) in pads.iter().enumerate() {
        widths[1 + i] = (a as i32, b as i32);
    }
    ops::pad(
        x,
        &widths[..],
        Array::from_f32(value).as_dtype(x.dtype())?,
        None,
    )
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

/// mlx.nn.MaxPool1d / AvgPool1d on NLC input: pads the length axis (with
/// -inf for max, 0 for average), takes sliding windows, reduces each.
fn pool1d(pool: &Pool1d, max: bool, x: &Array, out_shape: &[i32]) -> Result<Array, Exception> {
    let value = if max { f32::NEG_INFINITY } else { 0.0 };
    let padded = pad_axes(x, &[pool.padding], value)?;
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

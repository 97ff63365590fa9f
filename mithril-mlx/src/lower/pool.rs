//! The pools (mithril-core's `layers/pool.rs`): padding, sliding windows,
//! and a max or a mean over each window, as mlx.nn computes them.

use mithril_core::layers::{AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d, Pool1d};
use mlx_rs::error::Exception;
use mlx_rs::ops::indexing::{IndexOp, TryIndexOp};
use mlx_rs::{Array, ops};

use super::{Call, Lower};

impl Lower for MaxPool2d {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let pool = &self.0;
        let padded = pad_spatial(call.x(), pool.padding, f32::NEG_INFINITY)?;
        let (windows, axes) = windows(&padded, pool.kernel, pool.stride, call.out_shape)?;
        windows.max_axes(&axes, None)
    }
}

impl Lower for AvgPool2d {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let pool = &self.0;
        let padded = pad_spatial(call.x(), pool.padding, 0.0)?;
        let (windows, axes) = windows(&padded, pool.kernel, pool.stride, call.out_shape)?;
        windows.mean_axes(&axes, None)
    }
}

impl Lower for MaxPool1d {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        pool1d(&self.0, true, call.x(), call.out_shape)
    }
}

impl Lower for AvgPool1d {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        pool1d(&self.0, false, call.x(), call.out_shape)
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

/// mlx.nn.MaxPool1d / AvgPool1d on NLC input: pads the length axis (with
/// -inf for max, 0 for average), takes sliding windows, reduces each.
fn pool1d(pool: &Pool1d, max: bool, x: &Array, out_shape: &[i32]) -> Result<Array, Exception> {
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

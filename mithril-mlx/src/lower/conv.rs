//! `Conv1d` and `Conv2d` (mithril-core's `layers/conv.rs`), as mlx.nn
//! computes them: `mx.conv*d(x, weight, stride, padding, dilation) + bias`.
//! An asymmetric padding is `mx.pad` with zeros and then no padding, as
//! Mithril's MLX backend does it.

use mithril_core::layers::{Conv1d, Conv2d, Sides};
use mlx_rs::error::Exception;
use mlx_rs::{Array, ops};

use super::{Call, Lower};

/// `x` padded with zeros on the spatial axes `1..` where a side differs
/// from its opposite, and the symmetric padding left for the convolution.
fn pad_asymmetric(x: &Array, pads: &[Sides]) -> Result<(Array, Vec<i32>), Exception> {
    if pads.iter().all(|(a, b)| a == b) {
        return Ok((x.clone(), pads.iter().map(|&(a, _)| a as i32).collect()));
    }
    let mut widths = vec![(0, 0); x.ndim()];
    for (i, &(a, b)) in pads.iter().enumerate() {
        widths[1 + i] = (a as i32, b as i32);
    }
    let zero = Array::from_f32(0.0).as_dtype(x.dtype())?;
    Ok((ops::pad(x, &widths[..], zero, None)?, vec![0; pads.len()]))
}

impl Lower for Conv1d {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let (x, pad) = pad_asymmetric(call.x(), &[self.pad()])?;
        let y = ops::conv1d(
            &x,
            &call.weights[0],
            self.stride as i32,
            pad[0],
            self.dilation as i32,
            None,
        )?;
        if self.bias {
            y.add(&call.weights[1])
        } else {
            Ok(y)
        }
    }
}

impl Lower for Conv2d {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let pads = self.padding.amounts(self.kernel, self.dilation);
        let (x, pad) = pad_asymmetric(call.x(), &pads)?;
        let y = ops::conv2d(
            &x,
            &call.weights[0],
            (self.stride[0] as i32, self.stride[1] as i32),
            (pad[0], pad[1]),
            (self.dilation[0] as i32, self.dilation[1] as i32),
            None,
        )?;
        if self.bias {
            y.add(&call.weights[1])
        } else {
            Ok(y)
        }
    }
}

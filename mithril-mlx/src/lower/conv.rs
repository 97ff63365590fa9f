//! `Conv1d` and `Conv2d` (mithril-core's `layers/conv.rs`), as mlx.nn
//! computes them: `mx.conv*d(x, weight, stride, padding, dilation) + bias`.

use mithril_core::layers::{Conv1d, Conv2d};
use mlx_rs::error::Exception;
use mlx_rs::{Array, ops};

use super::{Call, Lower};

impl Lower for Conv1d {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let y = ops::conv1d(
            call.x(),
            &call.weights[0],
            self.stride as i32,
            self.pad() as i32,
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
        let pad = self.padding.amounts(self.kernel, self.dilation);
        let y = ops::conv2d(
            call.x(),
            &call.weights[0],
            (self.stride[0] as i32, self.stride[1] as i32),
            (pad[0] as i32, pad[1] as i32),
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

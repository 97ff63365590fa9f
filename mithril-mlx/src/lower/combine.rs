//! The layers of several inputs (mithril-core's `layers/combine.rs`):
//! MLX's own ops, broadcasting as they do.

use mithril_core::layers::{
    Add, Concat, Divide, MatMul, Maximum, Minimum, Multiply, Power, Subtract,
};
use mlx_rs::error::Exception;
use mlx_rs::{Array, ops};

use super::{Call, Lower};

impl Lower for Add {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.x().add(call.inputs[1])
    }
}

impl Lower for Subtract {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.x().subtract(call.inputs[1])
    }
}

impl Lower for Multiply {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.x().multiply(call.inputs[1])
    }
}

impl Lower for Divide {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.x().divide(call.inputs[1])
    }
}

impl Lower for Power {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.x().power(call.inputs[1])
    }
}

/// `mx.maximum`: where the two are equal, the gradient goes to `b`.
impl Lower for Maximum {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        ops::maximum(call.x(), call.inputs[1])
    }
}

/// `mx.minimum`: where the two are equal, the gradient goes to `b`.
impl Lower for Minimum {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        ops::minimum(call.x(), call.inputs[1])
    }
}

impl Lower for MatMul {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        ops::matmul(call.x(), call.inputs[1])
    }
}

impl Lower for Concat {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        ops::concatenate(call.inputs, self.axis as i32)
    }
}

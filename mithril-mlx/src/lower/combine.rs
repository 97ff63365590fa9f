//! The layers of several inputs (mithril-core's `layers/combine.rs`).

use mithril_core::layers::{Add, Concat, MatMul, Multiply, Subtract};
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

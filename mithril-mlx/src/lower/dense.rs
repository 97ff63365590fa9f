//! `Linear` and `Embedding` (mithril-core's `layers/dense.rs`), as mlx.nn
//! computes them.

use mithril_core::layers::{Embedding, Linear};
use mlx_rs::Array;
use mlx_rs::error::Exception;

use super::{Call, Lower, linear, refuse};
use crate::run::is_integer;

/// mlx.nn.Linear: `x W^T + b`.
impl Lower for Linear {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        linear(
            call.x(),
            &call.weights[0],
            self.bias.then(|| &call.weights[1]),
        )
    }
}

/// mlx.nn.Embedding: `weight[x]`. The indices carry no gradient (their
/// cotangent is zero), and must be integers: anything else is an error
/// (an input of the model is checked before it runs, naming the input).
impl Lower for Embedding {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        if !is_integer(x.dtype()) {
            return Err(refuse(format!(
                "needs integer indices (int32 or uint32), but its input has dtype {:?}",
                x.dtype()
            )));
        }
        call.weights[0].take_axis(mlx_rs::stop_gradient(x)?, 0)
    }
}

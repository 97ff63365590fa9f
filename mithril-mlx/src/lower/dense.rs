//! `Linear` and `Embedding` (mithril-core's `layers/dense.rs`), as mlx.nn
//! computes them.

use mithril_core::layers::{Embedding, Linear};
use mlx_rs::error::Exception;
use mlx_rs::{Array, Dtype};

use super::{Call, Lower, linear};

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
impl Lower for Embedding {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        if !is_integer(x.dtype()) {
            return Err(Exception::custom(format!(
                "`Embedding({}, {})` needs integer indices (e.g. int32), but its input has dtype {:?}",
                self.vocab,
                self.dims,
                x.dtype()
            )));
        }
        call.weights[0].take_axis(mlx_rs::stop_gradient(x)?, 0)
    }
}

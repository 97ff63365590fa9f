//! Comparisons and `Where` (mithril-core's `layers/select.rs`): MLX's own ops.

use mithril_core::layers::{Equal, Greater, Less, Where};
use mlx_rs::error::Exception;
use mlx_rs::{Array, ops};

use super::{Call, Lower};

impl Lower for Greater {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.x().gt(call.inputs[1])
    }
}

impl Lower for Less {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.x().lt(call.inputs[1])
    }
}

impl Lower for Equal {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.x().eq(call.inputs[1])
    }
}

/// `mx.where(cond, a, b)`; a condition that is not boolean counts as
/// `cond != 0`, as in MLX.
impl Lower for Where {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        ops::select(call.x(), call.inputs[1], call.inputs[2])
    }
}

//! Reductions over axes (mithril-core's `layers/reduce.rs`): MLX's own.

use mithril_core::layers::{ArgMax, LogSumExp, Max, Mean, Min, Prod, Std, Sum, Var};
use mlx_rs::Array;
use mlx_rs::error::Exception;
use mlx_rs::ops;

use super::{Call, Lower};

/// The reduced axes of an input of `rank` axes, as MLX takes them.
fn axes(reduction: &mithril_core::layers::Reduction, rank: usize) -> Vec<i32> {
    reduction.resolved(rank).iter().map(|&a| a as i32).collect()
}

/// `mx.mean` over the layer's axes.
impl Lower for Mean {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        x.mean_axes(&axes(&self.0, x.ndim()), self.0.keepdims)
    }
}

/// `mx.sum` over the layer's axes.
impl Lower for Sum {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        x.sum_axes(&axes(&self.0, x.ndim()), self.0.keepdims)
    }
}

/// `mx.max` over the layer's axes.
impl Lower for Max {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        x.max_axes(&axes(&self.0, x.ndim()), self.0.keepdims)
    }
}

/// `mx.min` over the layer's axes.
impl Lower for Min {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        x.min_axes(&axes(&self.0, x.ndim()), self.0.keepdims)
    }
}

/// `mx.prod` over the layer's axes.
impl Lower for Prod {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        x.prod_axes(&axes(&self.0, x.ndim()), self.0.keepdims)
    }
}

/// `mx.logsumexp` over the layer's axes.
impl Lower for LogSumExp {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        x.logsumexp_axes(&axes(&self.0, x.ndim()), self.0.keepdims)
    }
}

/// `mx.var(x, axes, keepdims, ddof)`.
impl Lower for Var {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        let r = &self.reduction;
        x.var_axes(&axes(r, x.ndim()), r.keepdims, self.ddof as i32)
    }
}

/// `mx.std(x, axes, keepdims, ddof)`.
impl Lower for Std {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        let r = &self.reduction;
        ops::std_axes(x, &axes(r, x.ndim()), r.keepdims, self.ddof as i32)
    }
}

/// `mx.argmax` along the axis, or of the flattened input.
impl Lower for ArgMax {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        match self.axis {
            Some(axis) => ops::indexing::argmax_axis(x, axis as i32, self.keepdims),
            None => ops::indexing::argmax(x, self.keepdims),
        }
    }
}

//! `Mean`, `Sum` and `Max` over axes (mithril-core's `layers/reduce.rs`).

use mithril_core::layers::{Max, Mean, Sum};
use mlx_rs::Array;
use mlx_rs::error::Exception;

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

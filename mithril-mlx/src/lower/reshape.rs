//! `Flatten` and `Reshape` (mithril-core's `layers/reshape.rs`): a reshape
//! to the output shape the rule computed.

use mithril_core::layers::{Flatten, Reshape};
use mlx_rs::Array;
use mlx_rs::error::Exception;

use super::{Call, Lower};

impl Lower for Flatten {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.x().reshape(call.out_shape)
    }
}

impl Lower for Reshape {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.x().reshape(call.out_shape)
    }
}

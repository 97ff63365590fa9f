//! `Buffer` (mithril-core's `layers/buffer.rs`): the stored array, read
//! through a stop-gradient, so it gets no gradient.

use mithril_core::layers::Buffer;
use mlx_rs::Array;
use mlx_rs::error::Exception;

use super::{Call, Lower};

impl Lower for Buffer {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        mlx_rs::stop_gradient(&call.weights[0])
    }
}

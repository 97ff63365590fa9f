//! `Lambda` (mithril-core's `layers/custom.rs`): the user's function, which
//! the graph was given when it was built.

use mithril_core::layers::Lambda;
use mlx_rs::Array;
use mlx_rs::error::Exception;

use super::{Call, Lower, refuse};
use crate::model::custom_fn;

impl Lower for Lambda {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        match custom_fn(&self.function.handle) {
            Some(f) => f(call.x()),
            None => Err(refuse(format!(
                "custom op `{}` has no function attached: build the model through `model!`, which attaches it",
                self.function.path
            ))),
        }
    }
}

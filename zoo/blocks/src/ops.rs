//! Custom ops used by the zoo's blocks (through `Lambda`).

use mithril::mlx_rs::error::Exception;
use mithril::mlx_rs::{Array, ops};

/// `x * sigmoid(x)`.
pub fn swish(x: &Array) -> Result<Array, Exception> {
    x.multiply(ops::sigmoid(x)?)
}

//! The activations (mithril-core's `layers/activation.rs`), as mlx.nn
//! computes them.

use mithril_core::layers::{
    Gelu, GeluApprox, GeluFast, LeakyRelu, LogSoftmax, Relu, Sigmoid, Silu, Softmax, Softplus, Tanh,
};
use mlx_rs::error::Exception;
use mlx_rs::{Array, nn, ops};

use super::{Call, Lower, scalar};

/// An activation of its single input alone.
macro_rules! elementwise {
    ($($layer:ident => $f:expr;)*) => {
        $(
            impl Lower for $layer {
                fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
                    let f: fn(&$layer, &Array) -> Result<Array, Exception> = $f;
                    f(self, call.x())
                }
            }
        )*
    };
}

elementwise! {
    Relu => |_, x| nn::relu(x);
    LeakyRelu => |l, x| nn::leaky_relu(x, l.negative_slope as f32);
    Gelu => |_, x| nn::gelu(x);
    GeluApprox => |_, x| gelu_approx(x);
    // mlx.nn.gelu_fast_approx: `x * mx.sigmoid(1.702 * x)`.
    GeluFast => |_, x| x.multiply(ops::sigmoid(&scalar(1.702, x)?.multiply(x)?)?);
    // mlx.nn.silu: `x * mx.sigmoid(x)`.
    Silu => |_, x| x.multiply(ops::sigmoid(x)?);
    // mlx.nn.softplus: `mx.logaddexp(x, 0)`.
    Softplus => |_, x| ops::logaddexp(x, scalar(0.0, x)?);
    Sigmoid => |_, x| ops::sigmoid(x);
    Tanh => |_, x| ops::tanh(x);
}

/// mlx.nn.gelu_approx:
/// `0.5 * x * (1 + mx.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))`
/// (also the fallback of the fused bias + GELU kernel).
pub(crate) fn gelu_approx(x: &Array) -> Result<Array, Exception> {
    let c = (2.0 / std::f64::consts::PI).sqrt();
    let cube = x.power(scalar(3.0, x)?)?;
    let inner = x.add(scalar(0.044715, x)?.multiply(&cube)?)?;
    let t = ops::tanh(&scalar(c, x)?.multiply(&inner)?)?;
    scalar(0.5, x)?
        .multiply(x)?
        .multiply(scalar(1.0, x)?.add(&t)?)
}

/// `mx.softmax` along the axis, in the accumulation dtype.
impl Lower for Softmax {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.ctx
            .options
            .accumulated(call.x(), |x| ops::softmax_axis(x, self.axis as i32, None))
    }
}

/// mlx.nn.log_softmax along the axis, in the accumulation dtype.
impl Lower for LogSoftmax {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        call.ctx
            .options
            .accumulated(call.x(), |x| nn::log_softmax(x, self.axis as i32))
    }
}

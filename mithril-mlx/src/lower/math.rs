//! Elementwise math (mithril-core's `layers/math.rs`): MLX's own ops where
//! it has them, and Mithril's robust operators written as its MLX backend
//! writes them (`mithril/cores/python/mlx/ops.py`: `robust_log`,
//! `robust_sqrt`, `stable_reciprocal`, `robust_power`), so their values and
//! MLX's gradients of them are Mithril's. Each takes the untaken side of
//! its `where` from a harmless input (`where(cond, 1, x)`), so that side's
//! gradient is never `inf * 0`.

use mithril_core::layers::{
    Abs, Clip, Cos, Cutoff, Exp, Log, Negate, RobustLog, RobustPower, RobustSqrt, Sin, Sqrt,
    Square, StableReciprocal, StopGradient, Threshold,
};
use mlx_rs::error::Exception;
use mlx_rs::{Array, Dtype, ops};

use super::{Call, Lower, scalar};

/// A function of its single input alone.
macro_rules! unary {
    ($($layer:ident => $f:expr;)*) => {
        $(
            impl Lower for $layer {
                fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
                    let f: fn(&Array) -> Result<Array, Exception> = $f;
                    f(call.x())
                }
            }
        )*
    };
}

unary! {
    Negate => |x| x.negative();
    Exp => |x| x.exp();
    Log => |x| x.log();
    Sqrt => |x| x.sqrt();
    Abs => |x| x.abs();
    Square => |x| x.square();
    Sin => |x| x.sin();
    Cos => |x| x.cos();
    StopGradient => |x| mlx_rs::stop_gradient(x);
}

/// `mx.clip(x, min, max)`, the bounds in `x`'s dtype.
impl Lower for Clip {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        ops::clip(x, (scalar(self.min, x)?, scalar(self.max, x)?))
    }
}

/// The cutoff as a scalar of `like`'s dtype: the model's, or Mithril's
/// constant for that dtype's width.
fn threshold(given: Threshold, cutoff: Cutoff, like: &Array) -> Result<Array, Exception> {
    let bits = match like.dtype() {
        Dtype::Float64 => 64,
        Dtype::Float16 | Dtype::Bfloat16 => 16,
        _ => 32,
    };
    scalar(given.value(cutoff, bits), like)
}

impl Lower for RobustLog {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        robust_log(call.x(), self.threshold)
    }
}

/// robust_log: `where(|x| < t, log(t) + |x| / t - 1, log(where(|x| < t, 1,
/// |x|)))`; also the robust losses' log.
pub(crate) fn robust_log(x: &Array, threshold: Threshold) -> Result<Array, Exception> {
    let t = self::threshold(threshold, RobustLog::CUTOFF, x)?;
    let a = x.abs()?;
    let small = a.lt(&t)?;
    let one = scalar(1.0, x)?;
    let near = t.log()?.add(a.divide(&t)?)?.subtract(&one)?;
    let far = ops::select(&small, &one, &a)?.log()?;
    ops::select(&small, &near, &far)
}

/// robust_sqrt: `where(|x| < t, |x| / sqrt(t), sqrt(where(|x| < t, 1, |x|)))`.
impl Lower for RobustSqrt {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        let t = threshold(self.threshold, Self::CUTOFF, x)?;
        let a = x.abs()?;
        let small = a.lt(&t)?;
        let near = a.multiply(t.sqrt()?.reciprocal()?)?;
        let far = ops::select(&small, scalar(1.0, x)?, &a)?.sqrt()?;
        ops::select(&small, &near, &far)
    }
}

/// stable_reciprocal: `where(|x| < t, -x / t^2 + (2 / t) (sign(x) + (1 -
/// sign(|x|))), 1 / where(|x| < t, 1, x))`: linear through `2 / t` at 0.
impl Lower for StableReciprocal {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let x = call.x();
        let t = threshold(self.threshold, Self::CUTOFF, x)?;
        let one = scalar(1.0, x)?;
        let small = x.abs()?.lt(&t)?;
        let sign = ops::sign(x)?;
        let zero_one = one.subtract(ops::sign(x.abs()?)?)?;
        let near = x
            .negative()?
            .divide(t.square()?)?
            .add(scalar(2.0, x)?.divide(&t)?.multiply(sign.add(&zero_one)?)?)?;
        let far = ops::select(&small, &one, x)?.reciprocal()?;
        ops::select(&small, &near, &far)
    }
}

/// robust_power: where the base is below the cutoff and the exponent small
/// enough that `|b| ** e` would be steeper than the line `|b| / t` (the
/// condition is held out of the gradient), the line; elsewhere `|b| ** e`.
/// The cutoff is that of the base's dtype.
impl Lower for RobustPower {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let (base, exponent) = (call.x(), call.inputs[1]);
        let t = threshold(self.threshold, Self::CUTOFF, base)?;
        let one = scalar(1.0, base)?;
        let log_t = t.log()?;
        let steep = one.subtract(
            log_t.divide(log_t.add(mlx_rs::stop_gradient(base)?.abs()?.divide(&t)?.log()?)?)?,
        )?;
        let small = mlx_rs::stop_gradient(exponent.lt(&steep)?.logical_and(base.abs()?.lt(&t)?)?)?;
        let shape = call.out_shape;
        let a = ops::broadcast_to(base.abs()?, shape)?;
        let exponent = ops::broadcast_to(exponent, shape)?;
        let near = one.divide(&t)?.multiply(&a)?;
        let far = a.power(ops::select(&small, &one, &exponent)?)?;
        ops::select(&small, &near, &far)
    }
}

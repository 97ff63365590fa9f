//! [`custom_vjp`]: a function of arrays whose gradient is another function.

use std::sync::Arc;

use mlx_rs::Array;

use super::KernelError;
use crate::error::{Error, Result, raise};
use crate::sys::Closure;

/// What a custom VJP's backward function is given: the forward function's
/// inputs (`primals`), one cotangent per forward output (the gradient of
/// the loss with respect to it; zeros for outputs the loss does not
/// use), and the forward outputs themselves (so statistics the forward
/// computed need not be recomputed).
#[derive(Clone, Copy, Debug)]
pub struct Vjp<'a> {
    /// The forward function's inputs.
    pub primals: &'a [Array],
    /// One cotangent per forward output.
    pub cotangents: &'a [Array],
    /// The forward function's outputs.
    pub outputs: &'a [Array],
}

/// A function of arrays with its own VJP: `mx.custom_function` with
/// `.vjp`. Built once by [`custom_vjp`], applied many times; MLX's
/// gradients (and compiled training steps) through its outputs call the
/// backward function instead of differentiating the forward one.
pub struct CustomVjp {
    closure: Closure,
}

impl std::fmt::Debug for CustomVjp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomVjp(..)")
    }
}

/// `forward` with `backward` as its VJP: `backward` returns one cotangent
/// per forward input, of that input's shape (checked: a mismatch is
/// [`KernelError::Cotangent`], raised where the gradient is computed).
///
/// MLX may keep both functions in its graphs and compiled steps and call
/// them later, so they own what they use (`Send + Sync + 'static`).
///
/// ```
/// use mithril_mlx::kernel::custom_vjp;
/// use mithril_mlx::mlx_rs::{Array, transforms::grad};
///
/// // x^2, with a backward that says 3x instead of 2x (to show it is used).
/// let square = custom_vjp(
///     |x| Ok(vec![x[0].square()?]),
///     |v| Ok(vec![v.cotangents[0].multiply(v.primals[0].multiply(Array::from_f32(3.0))?)?]),
/// )?;
/// let f = |x: &Array| -> Result<Array, mithril_mlx::mlx_rs::error::Exception> {
///     Ok(square.apply(&[x])?.remove(0).sum(None)?)
/// };
/// let dx = grad(f)(&Array::from_slice(&[1.0f32, 2.0], &[2]))?;
/// assert_eq!(dx.as_slice::<f32>(), &[3.0, 6.0]);
/// # Ok::<(), mithril_mlx::Error>(())
/// ```
pub fn custom_vjp<F, B>(forward: F, backward: B) -> Result<CustomVjp>
where
    F: Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync + 'static,
    B: Fn(&Vjp<'_>) -> Result<Vec<Array>> + Send + Sync + 'static,
{
    let forward = Arc::new(move |inputs: &[Array]| forward(inputs).map_err(message));
    let backward = Arc::new(
        move |primals: &[Array], cotangents: &[Array], outputs: &[Array]| {
            let vjp = Vjp {
                primals,
                cotangents,
                outputs,
            };
            backward(&vjp)
                .and_then(|grads| check_cotangents(primals, grads))
                .map_err(message)
        },
    );
    let closure = Closure::with_vjp(forward, backward)?;
    Ok(CustomVjp { closure })
}

impl CustomVjp {
    /// Applies the forward function to `inputs`; the outputs differentiate
    /// through the backward function.
    pub fn apply(&self, inputs: &[&Array]) -> Result<Vec<Array>> {
        Ok(self.closure.apply(inputs)?)
    }
}

/// `error`'s message for MLX, kept aside so that the error MLX reports
/// with it converts back into `error` ([`raise`]).
fn message(error: Error) -> String {
    raise(error).what().to_string()
}

/// The backward function's cotangents, if they fit the primals (one each,
/// of its shape); MLX would index past a short list.
fn check_cotangents(primals: &[Array], grads: Vec<Array>) -> Result<Vec<Array>> {
    if grads.len() != primals.len() {
        return Err(KernelError::Cotangent {
            index: grads.len().min(primals.len()),
            expected: format!("{} cotangents, one per forward input", primals.len()),
            found: format!("{} cotangents", grads.len()),
        }
        .into());
    }
    for (index, (p, g)) in primals.iter().zip(&grads).enumerate() {
        if p.shape() != g.shape() {
            return Err(KernelError::Cotangent {
                index,
                expected: format!("shape {:?} (its input's)", p.shape()),
                found: format!("shape {:?}", g.shape()),
            }
            .into());
        }
    }
    Ok(grads)
}

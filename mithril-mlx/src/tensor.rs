//! Tensors are `mlx_rs::Array`s: no wrapper, so nothing is copied going in or
//! out of mlx-rs. This module adds the guide's creation and conversion
//! helpers, seeded by the backend, and the debugging checks.
//!
//! MLX is lazy: an operation records a node and returns at once; nothing is
//! computed until a value is read (`to_vec`, `item`), printed, or evaluated
//! with `mlx_rs::transforms::eval`. [`is_evaluated`] tells which state an
//! array is in.

use mlx_rs::{Array, ArrayElement};

use crate::backend::MlxBackend;
use crate::error::{Error, Result};

/// Nested Rust arrays with a static shape: `[[1.0, 2.0], [3.0, 4.0]]`.
pub trait Nested {
    /// The shape.
    fn shape() -> Vec<i32>;
    /// The elements, row-major.
    fn flatten_into(&self, out: &mut Vec<f32>);
}

impl Nested for f32 {
    fn shape() -> Vec<i32> {
        Vec::new()
    }
    fn flatten_into(&self, out: &mut Vec<f32>) {
        out.push(*self);
    }
}

impl<T: Nested, const N: usize> Nested for [T; N] {
    fn shape() -> Vec<i32> {
        let mut s = vec![N as i32];
        s.extend(T::shape());
        s
    }
    fn flatten_into(&self, out: &mut Vec<f32>) {
        for item in self {
            item.flatten_into(out);
        }
    }
}

fn shape_len(shape: &[i32]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| {
        usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
    })
}

impl MlxBackend {
    /// An array of the backend's dtype from values and a shape.
    ///
    /// ```
    /// let backend = mithril_mlx::MlxBackend::new()?;
    /// let a = backend.array(&[1.0, 2.0, 3.0, 4.0], &[2, 2])?;
    /// assert_eq!(a.shape(), &[2, 2]);
    /// # Ok::<(), mithril_mlx::Error>(())
    /// ```
    pub fn array(&self, values: &[f32], shape: &[i32]) -> Result<Array> {
        if shape_len(shape) != Some(values.len()) {
            return Err(Error::Config {
                option: "shape",
                reason: format!("{} values do not fill shape {shape:?}", values.len()),
            });
        }
        Ok(Array::from_slice(values, shape).as_dtype(self.dtype().mlx())?)
    }

    /// An array from nested Rust arrays, in the backend's dtype.
    pub fn from_nested<T: Nested>(&self, values: &T) -> Result<Array> {
        let mut flat = Vec::new();
        values.flatten_into(&mut flat);
        self.array(&flat, &T::shape())
    }

    /// Zeros of the backend's dtype.
    pub fn zeros(&self, shape: &[i32]) -> Result<Array> {
        Ok(mlx_rs::ops::zeros_dtype(shape, self.dtype().mlx())?)
    }

    /// Ones of the backend's dtype.
    pub fn ones(&self, shape: &[i32]) -> Result<Array> {
        Ok(Array::ones::<f32>(shape)?.as_dtype(self.dtype().mlx())?)
    }

    /// `value` everywhere, in the backend's dtype.
    pub fn full(&self, shape: &[i32], value: f32) -> Result<Array> {
        Ok(
            mlx_rs::ops::full::<f32>(shape, Array::from_f32(value))?
                .as_dtype(self.dtype().mlx())?,
        )
    }

    /// Standard normal samples from the backend's seeded generator.
    pub fn randn(&self, shape: &[i32]) -> Result<Array> {
        let key = self.next_key()?;
        Ok(mlx_rs::random::normal::<f32>(shape, None, None, &key)?.as_dtype(self.dtype().mlx())?)
    }

    /// Uniform samples on `[low, high)` from the backend's seeded generator.
    pub fn uniform(&self, shape: &[i32], low: f32, high: f32) -> Result<Array> {
        let key = self.next_key()?;
        Ok(mlx_rs::random::uniform::<_, f32>(low, high, shape, &key)?
            .as_dtype(self.dtype().mlx())?)
    }
}

/// The elements of `a` (evaluating it), or an error when `T` is not its dtype.
pub fn to_vec<T: ArrayElement + Clone>(a: &Array) -> Result<Vec<T>> {
    a.eval()?;
    a.try_as_slice::<T>()
        .map(<[T]>::to_vec)
        .map_err(|e| Error::Dtype {
            what: "array".into(),
            expected: crate::DType::F32,
            found: format!("{:?} ({e})", a.dtype()),
        })
}

/// Whether MLX has computed `a` already (arrays are lazy until read or evaluated).
pub fn is_evaluated(a: &Array) -> bool {
    let mut available = false;
    // SAFETY: `a` is a live array; the call only reads its status flag.
    let status = unsafe { mlx_sys::_mlx_array_is_available(&mut available, a.as_ptr()) };
    status == 0 && available
}

/// Whether `a` holds a NaN.
pub fn has_nan(a: &Array) -> Result<bool> {
    Ok(a.is_nan()?.any(None)?.item_exact::<bool>())
}

/// Whether `a` holds a NaN or an infinity.
pub fn has_non_finite(a: &Array) -> Result<bool> {
    let bad = a.is_nan()?.logical_or(a.is_inf()?)?;
    Ok(bad.any(None)?.item_exact::<bool>())
}

/// An error naming `what` when `a` holds a NaN or an infinity.
pub fn check_finite(what: &str, a: &Array) -> Result<()> {
    if has_non_finite(a)? {
        let nans = a
            .is_nan()?
            .sum(None)?
            .as_dtype(mlx_rs::Dtype::Int64)?
            .item_exact::<i64>();
        let total = a.size();
        return Err(Error::NonFinite {
            what: what.to_string(),
            nans: nans as usize,
            total,
        });
    }
    Ok(())
}

/// Conversions to and from `ndarray` (feature `ndarray`): the Rust `to_numpy`.
#[cfg(feature = "ndarray")]
pub mod ndarray_conv {
    use super::*;

    /// Copies `a` (as f32) into an `ndarray`.
    pub fn to_ndarray(a: &Array) -> Result<ndarray::ArrayD<f32>> {
        let a32 = a.as_dtype(mlx_rs::Dtype::Float32)?;
        let values = to_vec::<f32>(&a32)?;
        let shape: Vec<usize> = a.shape().iter().map(|&d| d as usize).collect();
        ndarray::ArrayD::from_shape_vec(shape, values).map_err(|e| Error::Config {
            option: "ndarray",
            reason: e.to_string(),
        })
    }

    /// Copies an `ndarray` into a new f32 array.
    pub fn from_ndarray(a: &ndarray::ArrayD<f32>) -> Array {
        let shape: Vec<i32> = a.shape().iter().map(|&d| d as i32).collect();
        let values: Vec<f32> = a.iter().copied().collect();
        Array::from_slice(&values, &shape)
    }
}

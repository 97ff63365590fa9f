//! The layers of several inputs: elementwise arithmetic with NumPy
//! broadcasting, matrix products and concatenation.

use super::{Arity, LayerRule, Operand, ShapeError};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::dim::Dim;
use crate::shape::Shape;

/// NumPy broadcasting of any number of shapes: each pair must broadcast
/// (then all of them do), and the first pair that does not is the error.
pub(crate) fn broadcast_all(layer: &str, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
    let mut out = inputs[0].shape.clone();
    for (i, b) in inputs.iter().enumerate().skip(1) {
        for a in &inputs[..i] {
            broadcast(layer, a, b)?;
        }
        out = broadcast(
            layer,
            &Operand {
                label: inputs[0].label,
                shape: &out,
            },
            b,
        )?;
    }
    Ok(out)
}

/// NumPy broadcasting of two shapes, with symbols broadcasting only against
/// themselves or a literal 1.
pub(crate) fn broadcast(
    layer: &str,
    a: &Operand<'_>,
    b: &Operand<'_>,
) -> Result<Shape, ShapeError> {
    let rank = a.shape.rank().max(b.shape.rank());
    let pad = |s: &Shape| -> Vec<Dim> {
        let mut d = vec![Dim::Lit(1); rank - s.rank()];
        d.extend(s.0.iter().cloned());
        d
    };
    let (da, db) = (pad(a.shape), pad(b.shape));
    let mut out = Vec::with_capacity(rank);
    for (axis, (x, y)) in da.iter().zip(&db).enumerate() {
        out.push(match (x, y) {
            _ if x == y => x.clone(),
            (Dim::Lit(1), d) | (d, Dim::Lit(1)) => d.clone(),
            _ => {
                return Err(ShapeError::new(format!(
                    "`{layer}` needs equal (or broadcastable) shapes: {} is {}, {} is {} (axis {axis}: {x} vs {y})",
                    a.label, a.shape, b.label, b.shape
                )));
            }
        });
    }
    Ok(Shape(out))
}

macro_rules! binary {
    ($name:ident, $summary:literal) => {
        #[doc = $summary]
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name;

        impl LayerRule for $name {
            const NAME: &'static str = stringify!($name);
            const ARGS: &'static [ArgDef] = &[];
            const INPUTS: Arity = Arity::Exactly(2);
            const SUMMARY: &'static str = $summary;

            fn from_args(_: &Args<'_>) -> Result<Self, ArgError> {
                Ok($name)
            }

            fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
                broadcast(Self::NAME, &inputs[0], &inputs[1])
            }
        }
    };
}
pub(super) use binary;

binary!(
    Add,
    "a + b, elementwise with broadcasting (residual connections)"
);
binary!(Subtract, "a - b, elementwise with broadcasting");
binary!(Multiply, "a * b, elementwise with broadcasting (gating)");
binary!(Divide, "a / b, elementwise with broadcasting");
binary!(
    Power,
    "a ** b (mx.power), elementwise with broadcasting: `Power(x, 2)` squares"
);
binary!(
    Maximum,
    "max(a, b), elementwise with broadcasting (mx.maximum)"
);
binary!(
    Minimum,
    "min(a, b), elementwise with broadcasting (mx.minimum)"
);

/// Matrix product over the last two axes, batch axes broadcast.
#[derive(Clone, Debug, PartialEq)]
pub struct MatMul;

impl LayerRule for MatMul {
    const NAME: &'static str = "MatMul";
    const ARGS: &'static [ArgDef] = &[];
    const INPUTS: Arity = Arity::Exactly(2);
    const SUMMARY: &'static str = "a @ b: [.., n, k] x [.., k, m] -> [.., n, m]";

    fn from_args(_: &Args<'_>) -> Result<Self, ArgError> {
        Ok(MatMul)
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let (a, b) = (&inputs[0], &inputs[1]);
        for x in [a, b] {
            if x.shape.rank() < 2 {
                return Err(ShapeError::new(format!(
                    "`MatMul` needs inputs with at least 2 axes, found {} with shape {}",
                    x.label, x.shape
                )));
            }
        }
        let (ra, rb) = (a.shape.rank(), b.shape.rank());
        let (k_a, k_b) = (&a.shape.0[ra - 1], &b.shape.0[rb - 2]);
        if k_a != k_b {
            return Err(ShapeError::new(format!(
                "`MatMul` needs the last axis of {} to match the second-to-last of {}: {} is {}, {} is {} ({k_a} vs {k_b})",
                a.label, b.label, a.label, a.shape, b.label, b.shape
            )));
        }
        let batch_a = Shape(a.shape.0[..ra - 2].to_vec());
        let batch_b = Shape(b.shape.0[..rb - 2].to_vec());
        let mut out = broadcast(
            "MatMul",
            &Operand {
                label: a.label,
                shape: &batch_a,
            },
            &Operand {
                label: b.label,
                shape: &batch_b,
            },
        )?
        .0;
        out.push(a.shape.0[ra - 2].clone());
        out.push(b.shape.0[rb - 1].clone());
        Ok(Shape(out))
    }
}

/// Joins inputs along an axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Concat {
    /// The axis joined along.
    pub axis: i64,
}

impl LayerRule for Concat {
    const NAME: &'static str = "Concat";
    const ARGS: &'static [ArgDef] = &[ArgDef::optional("axis", "an axis", ArgValue::Int(-1))];
    const INPUTS: Arity = Arity::AtLeast(2);
    const SUMMARY: &'static str = "joins inputs along an axis: [B, 3] ++ [B, 5] -> [B, 8]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Concat {
            axis: args.int("axis")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let first = &inputs[0];
        let Some(axis) = first.shape.axis(self.axis) else {
            return Err(ShapeError::new(format!(
                "`Concat` axis {} is out of range for {} with shape {}",
                self.axis, first.label, first.shape
            )));
        };
        let mut out = first.shape.clone();
        for other in &inputs[1..] {
            let same_elsewhere = other.shape.rank() == first.shape.rank()
                && (0..first.shape.rank())
                    .all(|i| i == axis || first.shape.0[i] == other.shape.0[i]);
            if !same_elsewhere {
                return Err(ShapeError::new(format!(
                    "`Concat` along axis {} needs equal shapes on the other axes: {} is {}, {} is {}",
                    self.axis, first.label, first.shape, other.label, other.shape
                )));
            }
            out.0[axis] = out.0[axis].add(&other.shape.0[axis]);
        }
        Ok(out)
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __combine_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Add, Subtract, Multiply, Divide, Power, Maximum, Minimum, MatMul, Concat,] [$($rest)*] }
    };
}

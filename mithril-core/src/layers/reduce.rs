//! Reductions over axes: `Mean`, `Sum`, `Max`.

use super::shape_ops::{distinct_axes, int_list};
use super::{LayerRule, Operand, ShapeError};
use crate::args::{ArgDef, ArgError, Args};
use crate::dim::Dim;
use crate::shape::Shape;

/// The arguments shared by the reductions.
#[derive(Clone, Debug, PartialEq)]
pub struct Reduction {
    /// The axes reduced (negative ones count from the end); `None` is all of them.
    pub axes: Option<Vec<i64>>,
    /// Keep the reduced axes with size 1.
    pub keepdims: bool,
}

const REDUCE_ARGS: &[ArgDef] = &[
    ArgDef::optional("axes", "an axis or a list of axes such as `[1, 2]`", "all"),
    ArgDef::optional("keepdims", "`true` or `false`", "false"),
];

impl Reduction {
    fn build(layer: &str, args: &Args<'_>) -> Result<Reduction, ArgError> {
        Ok(Reduction {
            axes: int_list(args, layer, "axes", REDUCE_ARGS[0].expects, true)?,
            keepdims: args.bool("keepdims", false)?,
        })
    }

    /// The reduced axes as non-negative indices for an input of `rank` axes.
    pub fn resolved(&self, rank: usize) -> Vec<usize> {
        match &self.axes {
            None => (0..rank).collect(),
            Some(axes) => axes
                .iter()
                .map(|&a| {
                    if a < 0 {
                        (a + rank as i64) as usize
                    } else {
                        a as usize
                    }
                })
                .collect(),
        }
    }

    fn infer(&self, layer: &str, x: &Operand<'_>) -> Result<Shape, ShapeError> {
        let axes = match &self.axes {
            None => (0..x.shape.rank()).collect(),
            Some(axes) => distinct_axes(layer, axes, x)?,
        };
        let dims = x.shape.0.iter().enumerate().filter_map(|(i, d)| {
            if !axes.contains(&i) {
                Some(d.clone())
            } else if self.keepdims {
                Some(Dim::Lit(1))
            } else {
                None
            }
        });
        Ok(Shape(dims.collect()))
    }
}

macro_rules! reduction {
    ($name:ident, $summary:literal) => {
        #[doc = $summary]
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name(pub Reduction);

        impl LayerRule for $name {
            const NAME: &'static str = stringify!($name);
            const ARGS: &'static [ArgDef] = REDUCE_ARGS;
            const SUMMARY: &'static str = $summary;

            fn build(args: &Args<'_>) -> Result<Self, ArgError> {
                Reduction::build(Self::NAME, args).map($name)
            }

            fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
                self.0.infer(Self::NAME, &inputs[0])
            }
        }
    };
}

reduction!(
    Mean,
    "mean over axes (all by default): [B, T, C] -> Mean(axes = 1) -> [B, C]"
);
reduction!(
    Sum,
    "sum over axes (all by default): `[B, T, C]` -> `Sum(axes = [1, 2])` -> `[B]`"
);
reduction!(
    Max,
    "maximum over axes (all by default): [B, T, C] -> Max(axes = 1, keepdims = true) -> [B, 1, C]"
);

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __reduce_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Mean, Sum, Max,] [$($rest)*] }
    };
}

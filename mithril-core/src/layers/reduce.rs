//! Reductions over axes: `Mean`, `Sum`, `Max`, `Min`, `Prod`, `LogSumExp`,
//! `Var` and `Std` (with a `ddof`), and `ArgMax` (indices, no gradient).

use super::shape_ops::{distinct_axes, int_list};
use super::{LayerRule, Operand, ShapeError};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
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

const AXES: ArgDef = ArgDef::derived(
    "axes",
    "an axis or a list of axes such as `[1, 2]`",
    "every axis",
);
const KEEPDIMS: ArgDef = ArgDef::optional("keepdims", "`true` or `false`", ArgValue::Bool(false));
const REDUCE_ARGS: &[ArgDef] = &[AXES, KEEPDIMS];

impl Reduction {
    fn from_args(layer: &str, args: &Args<'_>) -> Result<Reduction, ArgError> {
        Ok(Reduction {
            axes: int_list(args, layer, "axes", AXES.expects, true)?,
            keepdims: args.bool("keepdims")?,
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

            fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
                Reduction::from_args(Self::NAME, args).map($name)
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
reduction!(Min, "minimum over axes (all by default), like `Max`");
reduction!(Prod, "product over axes (all by default), like `Sum`");
reduction!(
    LogSumExp,
    "log(sum(exp(x))) over axes (all by default), computed stably (mx.logsumexp)"
);

const SPREAD_ARGS: &[ArgDef] = &[
    AXES,
    KEEPDIMS,
    ArgDef::optional(
        "ddof",
        "a non-negative integer (the divisor is N - ddof)",
        ArgValue::Int(0),
    ),
];

/// A spread over axes: the reduction's arguments and the delta degrees of
/// freedom (`ddof = 1` is the unbiased sample variance).
macro_rules! spread {
    ($name:ident, $summary:literal) => {
        #[doc = $summary]
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            /// The axes and whether they are kept.
            pub reduction: Reduction,
            /// The divisor is the number of elements minus this.
            pub ddof: usize,
        }

        impl LayerRule for $name {
            const NAME: &'static str = stringify!($name);
            const ARGS: &'static [ArgDef] = SPREAD_ARGS;
            const SUMMARY: &'static str = $summary;

            fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
                Ok($name {
                    reduction: Reduction::from_args(Self::NAME, args)?,
                    ddof: args.count("ddof")?,
                })
            }

            fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
                self.reduction.infer(Self::NAME, &inputs[0])
            }
        }
    };
}

spread!(
    Var,
    "variance over axes (all by default), sum((x - mean)^2) / (N - ddof) (mx.var): [B, T, C] -> Var(axes = 1) -> [B, C]"
);
spread!(
    Std,
    "standard deviation over axes (all by default), the square root of `Var` (mx.std)"
);

/// The index of the largest element along an axis (or of the flattened
/// input): unsigned 32-bit integers, through which no gradient flows.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgMax {
    /// The axis (negative counts from the end); `None` is the flattened input.
    pub axis: Option<i64>,
    /// Keep the reduced axis (or every axis, for the flattened input) with size 1.
    pub keepdims: bool,
}

impl LayerRule for ArgMax {
    const NAME: &'static str = "ArgMax";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::optional(
            "axis",
            "an axis, or `all` for the flattened input",
            ArgValue::word("all"),
        ),
        ArgDef::optional("keepdims", "`true` or `false`", ArgValue::Bool(false)),
    ];
    const SUMMARY: &'static str = "index of the maximum along an axis (of the flattened input by default), uint32, no gradient: [B, C] -> ArgMax(axis = 1) -> [B]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let axis = match args.value("axis") {
            Some((_, ArgValue::Ident(w))) if w == "all" => None,
            _ => Some(args.int("axis")?),
        };
        Ok(ArgMax {
            axis,
            keepdims: args.bool("keepdims")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let reduction = Reduction {
            axes: self.axis.map(|a| vec![a]),
            keepdims: self.keepdims,
        };
        reduction.infer(Self::NAME, &inputs[0])
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __reduce_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Mean, Sum, Max, Min, Prod, LogSumExp, Var, Std, ArgMax,] [$($rest)*] }
    };
}

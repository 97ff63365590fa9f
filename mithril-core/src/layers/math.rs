//! Elementwise math: functions of one value (`Exp`, `Log`, `Square`, ...),
//! `Clip`, `StopGradient`, and Mithril's robust operators, whose values and
//! gradients stay finite where the plain ones are infinite (`RobustLog` of
//! 0, the gradient of `RobustSqrt` at 0, `StableReciprocal` of 0).

use super::activation::elementwise;
use super::combine::broadcast;
use super::{Arity, LayerRule, Operand, ShapeError};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::shape::Shape;

elementwise!(Negate, "-x, elementwise");
elementwise!(Exp, "e ** x, elementwise");
elementwise!(
    Log,
    "natural log, elementwise (-inf at 0; `RobustLog` is finite there)"
);
elementwise!(
    Sqrt,
    "square root, elementwise (its gradient is infinite at 0; `RobustSqrt`'s is finite)"
);
elementwise!(Abs, "|x|, elementwise (gradient sign(x), 0 at 0)");
elementwise!(Square, "x * x, elementwise");
elementwise!(Sin, "sine, elementwise");
elementwise!(Cos, "cosine, elementwise");
elementwise!(
    StopGradient,
    "the identity, through which no gradient flows (mx.stop_gradient)"
);

/// `min(max(x, min), max)`, elementwise.
#[derive(Clone, Debug, PartialEq)]
pub struct Clip {
    /// The lower bound.
    pub min: f64,
    /// The upper bound.
    pub max: f64,
}

impl LayerRule for Clip {
    const NAME: &'static str = "Clip";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("min", "a number"),
        ArgDef::required("max", "a number, at least `min`"),
    ];
    const SUMMARY: &'static str =
        "min(max(x, min), max), elementwise (mx.clip); gradient 1 inside the bounds, 0 outside";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let clip = Clip {
            min: args.float("min")?,
            max: args.float("max")?,
        };
        if clip.min > clip.max {
            return Err(args.error(
                "max",
                format!(
                    "`Clip` needs `min` <= `max`, found min = {:?} and max = {:?}",
                    clip.min, clip.max
                ),
            ));
        }
        Ok(clip)
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        Ok(inputs[0].shape.clone())
    }
}

/// The cutoff below which a robust operator switches to its finite form:
/// a number, or by default the constant Mithril uses for the value's dtype.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    /// Mithril's constant for the dtype (see [`Threshold::value`]).
    Auto,
    /// A number given in the model.
    Given(f64),
}

/// Which of Mithril's constants a robust operator's default cutoff is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cutoff {
    /// `Constant.MIN_POSITIVE_NORMAL`: the smallest positive normal number
    /// of the dtype (`RobustLog`, `RobustSqrt`, `RobustPower`).
    MinPositiveNormal,
    /// `Constant.STABLE_RECIPROCAL_THRESHOLD`: about the square root of the
    /// smallest normal, so that `1 / threshold^2` stays finite
    /// (`StableReciprocal`).
    StableReciprocal,
}

impl Cutoff {
    /// Mithril's value for a float of `bits` bits (its `epsilon_table` in
    /// `mithril/types.py`; 16-bit floats, f16 and bf16 alike, share one row).
    pub fn for_bits(self, bits: usize) -> f64 {
        match (self, bits) {
            (Cutoff::MinPositiveNormal, 64) => 2.2250738585072014e-308,
            (Cutoff::MinPositiveNormal, 16) => 6.104e-05,
            (Cutoff::MinPositiveNormal, _) => 1.1754944e-38,
            (Cutoff::StableReciprocal, 64) => 1.4916681462400413e-153,
            (Cutoff::StableReciprocal, 16) => 0.007812809993849843,
            (Cutoff::StableReciprocal, _) => 1.0842021951e-19,
        }
    }
}

impl Threshold {
    /// The cutoff for values of `bits` bits.
    pub fn value(self, default: Cutoff, bits: usize) -> f64 {
        match self {
            Threshold::Auto => default.for_bits(bits),
            Threshold::Given(t) => t,
        }
    }

    fn read(args: &Args<'_>) -> Result<Threshold, ArgError> {
        match args.value("threshold") {
            Some((_, ArgValue::Ident(w))) if w == "auto" => Ok(Threshold::Auto),
            Some((site, value)) => match args.float("threshold")? {
                t if t > 0.0 => Ok(Threshold::Given(t)),
                _ => Err(args.invalid("threshold", value, site)),
            },
            None => args.float("threshold").map(Threshold::Given),
        }
    }
}

const THRESHOLD: ArgDef = ArgDef::optional(
    "threshold",
    "`auto` (Mithril's constant for the dtype) or a positive number",
    ArgValue::word("auto"),
);

/// A robust operator of one value: its summary and its default cutoff.
macro_rules! robust {
    ($name:ident, $cutoff:ident, $summary:literal) => {
        #[doc = $summary]
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            /// Where it switches to its finite form.
            pub threshold: Threshold,
        }

        impl $name {
            /// Mithril's default cutoff for this operator.
            pub const CUTOFF: Cutoff = Cutoff::$cutoff;
        }

        impl LayerRule for $name {
            const NAME: &'static str = stringify!($name);
            const ARGS: &'static [ArgDef] = &[THRESHOLD];
            const SUMMARY: &'static str = $summary;

            fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
                Ok($name {
                    threshold: Threshold::read(args)?,
                })
            }

            fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
                Ok(inputs[0].shape.clone())
            }
        }
    };
}

robust!(
    RobustLog,
    MinPositiveNormal,
    "log|x|, and log(t) + |x| / t - 1 where |x| < t: finite at 0, gradient sign(x) / t there (Mithril's robust_log)"
);
robust!(
    RobustSqrt,
    MinPositiveNormal,
    "sqrt|x|, and |x| / sqrt(t) where |x| < t: gradient sign(x) / sqrt(t) there, finite at 0 (Mithril's robust_sqrt)"
);
robust!(
    StableReciprocal,
    StableReciprocal,
    "1 / x, and -x / t^2 + 2 / t * (sign(x) + (x == 0)) where |x| < t: finite at 0, gradient -1 / t^2 there (Mithril's stable_reciprocal)"
);

/// `|a| ** b`, linear near 0 where the power is steep (Mithril's robust_power).
#[derive(Clone, Debug, PartialEq)]
pub struct RobustPower {
    /// Where it switches to its linear form.
    pub threshold: Threshold,
}

impl RobustPower {
    /// Mithril's default cutoff for this operator.
    pub const CUTOFF: Cutoff = Cutoff::MinPositiveNormal;
}

impl LayerRule for RobustPower {
    const NAME: &'static str = "RobustPower";
    const ARGS: &'static [ArgDef] = &[THRESHOLD];
    const INPUTS: Arity = Arity::Exactly(2);
    const SUMMARY: &'static str = "|a| ** b with broadcasting, and |a| / t where |a| < t and b < 1 - log(t) / log|a| (so the value and the gradients stay finite at 0); exponent gradient 0 there (Mithril's robust_power)";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(RobustPower {
            threshold: Threshold::read(args)?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        broadcast(Self::NAME, &inputs[0], &inputs[1])
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __math_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Negate, Exp, Log, Sqrt, Abs, Square, Sin, Cos, Clip, StopGradient, RobustLog, RobustSqrt, StableReciprocal, RobustPower,] [$($rest)*] }
    };
}

use super::{LayerRule, Operand, ShapeError};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::shape::Shape;

/// A function of one value, elementwise: same shape, no arguments.
macro_rules! elementwise {
    ($name:ident, $summary:literal) => {
        #[doc = $summary]
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name;

        impl LayerRule for $name {
            const NAME: &'static str = stringify!($name);
            const ARGS: &'static [ArgDef] = &[];
            const SUMMARY: &'static str = $summary;

            fn from_args(_: &Args<'_>) -> Result<Self, ArgError> {
                Ok($name)
            }

            fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
                Ok(inputs[0].shape.clone())
            }
        }
    };
}
pub(super) use elementwise;

elementwise!(Relu, "max(x, 0), elementwise");
elementwise!(
    Gelu,
    "x * Phi(x) with the exact normal CDF (mlx.nn.gelu), elementwise"
);
elementwise!(Sigmoid, "1 / (1 + exp(-x)), elementwise");
elementwise!(Tanh, "tanh(x), elementwise");
elementwise!(
    Softplus,
    "log(1 + exp(x)) as logaddexp(x, 0) (mlx.nn.softplus), elementwise"
);
elementwise!(
    Silu,
    "x * sigmoid(x), also called swish (mlx.nn.silu), elementwise"
);
elementwise!(
    GeluApprox,
    "0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))) (mlx.nn.gelu_approx), elementwise"
);
elementwise!(
    GeluFast,
    "x * sigmoid(1.702 * x) (mlx.nn.gelu_fast_approx), elementwise"
);

/// `max(x, slope * x)`, elementwise.
#[derive(Clone, Debug, PartialEq)]
pub struct LeakyRelu {
    /// The slope for negative inputs.
    pub negative_slope: f64,
}

impl LayerRule for LeakyRelu {
    const NAME: &'static str = "LeakyRelu";
    const ARGS: &'static [ArgDef] = &[ArgDef::optional(
        "negative_slope",
        "a number",
        ArgValue::Float(0.01),
    )];
    const SUMMARY: &'static str = "max(x, negative_slope * x), elementwise";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(LeakyRelu {
            negative_slope: args.float("negative_slope")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        Ok(inputs[0].shape.clone())
    }
}

fn check_axis(layer: &str, axis: i64, x: &Operand<'_>) -> Result<Shape, ShapeError> {
    match x.shape.axis(axis) {
        Some(_) => Ok(x.shape.clone()),
        None => Err(ShapeError::new(format!(
            "`{layer}` axis {axis} is out of range for {} with shape {}",
            x.label, x.shape
        ))),
    }
}

macro_rules! normalising {
    ($name:ident, $summary:literal) => {
        #[doc = $summary]
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            /// The axis normalised over.
            pub axis: i64,
        }

        impl LayerRule for $name {
            const NAME: &'static str = stringify!($name);
            const ARGS: &'static [ArgDef] =
                &[ArgDef::optional("axis", "an axis", ArgValue::Int(-1))];
            const SUMMARY: &'static str = $summary;

            fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
                Ok($name {
                    axis: args.int("axis")?,
                })
            }

            fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
                check_axis(Self::NAME, self.axis, &inputs[0])
            }
        }
    };
}

normalising!(
    Softmax,
    "exp(x) / sum(exp(x)) along an axis (default the last)"
);
normalising!(
    LogSoftmax,
    "x - logsumexp(x) along an axis (default the last)"
);

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __activation_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Relu, LeakyRelu, Gelu, GeluApprox, GeluFast, Silu, Softplus, Sigmoid, Tanh, Softmax, LogSoftmax,] [$($rest)*] }
    };
}

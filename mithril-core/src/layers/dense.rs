use super::{Init, LayerRule, Operand, ShapeError, WeightSpec, known_size};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::dim::Dim;
use crate::shape::Shape;

/// `y = x W^T + b` over the last axis (mlx.nn.Linear).
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// Output features.
    pub units: usize,
    /// Whether there is a bias.
    pub bias: bool,
}

impl LayerRule for Linear {
    const NAME: &'static str = "Linear";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("units", "a positive integer"),
        ArgDef::optional("bias", "`true` or `false`", ArgValue::Bool(true)),
    ];
    const SUMMARY: &'static str = "affine map of the last axis: [.., in] -> [.., units]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Linear {
            units: args.positive("units")?,
            bias: args.bool("bias")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        if x.shape.rank() == 0 {
            return Err(ShapeError::new(format!(
                "`Linear` expects at least one axis, found a scalar {}",
                x.label
            )));
        }
        known_size(
            "Linear",
            "input feature size (last axis)",
            x,
            x.shape.rank() - 1,
        )?;
        let mut dims = x.shape.0.clone();
        *dims.last_mut().expect("rank checked") = Dim::Lit(self.units);
        Ok(Shape(dims))
    }

    fn weights(&self, inputs: &[Shape]) -> Vec<WeightSpec> {
        let fan_in = inputs[0].0.last().and_then(Dim::as_lit).unwrap_or(1);
        let bound = (1.0 / fan_in as f64).sqrt();
        let mut w = vec![WeightSpec::param(
            "weight",
            vec![self.units, fan_in],
            Init::Uniform { bound },
        )];
        if self.bias {
            w.push(WeightSpec::param(
                "bias",
                vec![self.units],
                Init::Uniform { bound },
            ));
        }
        w
    }
}

/// A lookup table: row `i` of `weight` for each integer index `i`
/// (mlx.nn.Embedding; weight [vocab, dims], normal with std sqrt(1/dims)).
///
/// The input must be an integer array (token ids in `0..vocab`); shapes
/// cannot say so, so the backend checks the dtype when the layer runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    /// Number of rows (distinct indices).
    pub vocab: usize,
    /// Size of each row.
    pub dims: usize,
}

impl LayerRule for Embedding {
    const NAME: &'static str = "Embedding";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("vocab", "a positive integer"),
        ArgDef::required("dims", "a positive integer"),
    ];
    const SUMMARY: &'static str = "rows of a table for integer indices: [..] -> [.., dims] (the input must be an integer array)";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Embedding {
            vocab: args.positive("vocab")?,
            dims: args.positive("dims")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let mut dims = inputs[0].shape.0.clone();
        dims.push(Dim::Lit(self.dims));
        Ok(Shape(dims))
    }

    fn weights(&self, _inputs: &[Shape]) -> Vec<WeightSpec> {
        vec![WeightSpec::param(
            "weight",
            vec![self.vocab, self.dims],
            Init::Normal {
                std: (1.0 / self.dims as f64).sqrt(),
            },
        )]
    }

    fn reads_indices(&self) -> bool {
        true
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __dense_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Linear, Embedding,] [$($rest)*] }
    };
}

use super::{Init, LayerRule, Operand, ShapeError, WeightSpec, known_size};
use crate::args::{ArgDef, ArgError, Args};
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
        ArgDef::optional("bias", "`true` or `false`", "true"),
    ];
    const SUMMARY: &'static str = "affine map of the last axis: [.., in] -> [.., units]";

    fn build(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Linear {
            units: args.positive("units", 0)?,
            bias: args.bool("bias", true)?,
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

use super::{Init, LayerRule, Operand, ShapeError, WeightSpec, known_size};
use crate::args::{ArgDef, ArgError, Args};
use crate::shape::Shape;

/// Batch normalisation over every axis but the last (mlx.nn.BatchNorm):
/// batch statistics in training mode, running statistics in inference.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    /// Added to the variance.
    pub eps: f64,
    /// Weight of the new batch in the running statistics.
    pub momentum: f64,
    /// Whether there is a learned scale and shift.
    pub affine: bool,
}

impl LayerRule for BatchNorm {
    const NAME: &'static str = "BatchNorm";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::optional("eps", "a positive number", "1e-5"),
        ArgDef::optional("momentum", "a number in [0, 1]", "0.1"),
        ArgDef::optional("affine", "`true` or `false`", "true"),
    ];
    const SUMMARY: &'static str =
        "normalises each feature (last axis) over the batch; running statistics at inference";

    fn build(args: &Args<'_>) -> Result<Self, ArgError> {
        let eps = args.float("eps", 1e-5)?;
        let momentum = args.float("momentum", 0.1)?;
        if eps <= 0.0 {
            return Err(args.error("eps", "`eps` of `BatchNorm` must be positive"));
        }
        if !(0.0..=1.0).contains(&momentum) {
            return Err(args.error("momentum", "`momentum` of `BatchNorm` must be in [0, 1]"));
        }
        Ok(BatchNorm {
            eps,
            momentum,
            affine: args.bool("affine", true)?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        if x.shape.rank() < 2 {
            return Err(ShapeError::new(format!(
                "`BatchNorm` expects [N, .., features], found {} with shape {}",
                x.label, x.shape
            )));
        }
        known_size(
            "BatchNorm",
            "feature count (last axis)",
            x,
            x.shape.rank() - 1,
        )?;
        Ok(x.shape.clone())
    }

    fn weights(&self, inputs: &[Shape]) -> Vec<WeightSpec> {
        let features = inputs[0].0.last().and_then(|d| d.as_lit()).unwrap_or(1);
        let mut w = Vec::new();
        if self.affine {
            w.push(WeightSpec::param("weight", vec![features], Init::Ones));
            w.push(WeightSpec::param("bias", vec![features], Init::Zeros));
        }
        w.push(WeightSpec::buffer(
            "running_mean",
            vec![features],
            Init::Zeros,
        ));
        w.push(WeightSpec::buffer(
            "running_var",
            vec![features],
            Init::Ones,
        ));
        w
    }
}

/// Zeroes elements with probability `p` and scales the rest by `1 / (1 - p)`
/// in training mode; the identity at inference. Seeded by the backend.
#[derive(Clone, Debug, PartialEq)]
pub struct Dropout {
    /// Probability of dropping an element.
    pub p: f64,
}

impl LayerRule for Dropout {
    const NAME: &'static str = "Dropout";
    const ARGS: &'static [ArgDef] = &[ArgDef::optional("p", "a probability in [0, 1)", "0.5")];
    const SUMMARY: &'static str =
        "drops elements with probability p in training (seeded); identity at inference";

    fn build(args: &Args<'_>) -> Result<Self, ArgError> {
        let p = args.float("p", 0.5)?;
        if !(0.0..1.0).contains(&p) {
            return Err(args.error(
                "p",
                format!("`p` of `Dropout` must be in [0, 1), found {p}"),
            ));
        }
        Ok(Dropout { p })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        Ok(inputs[0].shape.clone())
    }
}

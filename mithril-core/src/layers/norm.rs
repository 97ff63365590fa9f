use super::{Init, LayerRule, Operand, ShapeError, WeightSpec, known_size};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
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
        ArgDef::optional("eps", "a positive number", ArgValue::Float(1e-5)),
        ArgDef::optional("momentum", "a number in [0, 1]", ArgValue::Float(0.1)),
        ArgDef::optional("affine", "`true` or `false`", ArgValue::Bool(true)),
    ];
    const SUMMARY: &'static str =
        "normalises each feature (last axis) over the batch; running statistics at inference";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let eps = args.float("eps")?;
        let momentum = args.float("momentum")?;
        if eps <= 0.0 {
            return Err(args.error("eps", "`eps` of `BatchNorm` must be positive"));
        }
        if !(0.0..=1.0).contains(&momentum) {
            return Err(args.error("momentum", "`momentum` of `BatchNorm` must be in [0, 1]"));
        }
        Ok(BatchNorm {
            eps,
            momentum,
            affine: args.bool("affine")?,
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

    fn updates_buffers(&self) -> bool {
        true
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
    const ARGS: &'static [ArgDef] = &[ArgDef::optional(
        "p",
        "a probability in [0, 1)",
        ArgValue::Float(0.5),
    )];
    const SUMMARY: &'static str =
        "drops elements with probability p in training (seeded); identity at inference";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let p = args.float("p")?;
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

    fn draws_random_numbers(&self) -> bool {
        self.p > 0.0
    }
}

/// Reads a positive `eps`.
fn read_eps(args: &Args<'_>, layer: &str) -> Result<f64, ArgError> {
    let eps = args.float("eps")?;
    if eps <= 0.0 {
        return Err(args.error(
            "eps",
            format!("`eps` of `{layer}` must be positive, found {eps}"),
        ));
    }
    Ok(eps)
}

/// The feature count (last axis) of a normalised input, literal when the
/// layer has parameters.
fn features(
    layer: &str,
    x: &Operand<'_>,
    min_rank: usize,
    layout: &str,
    needs_size: bool,
) -> Result<Option<usize>, ShapeError> {
    if x.shape.rank() < min_rank {
        return Err(ShapeError::new(format!(
            "`{layer}` expects {layout}, found {} with shape {}",
            x.label, x.shape
        )));
    }
    let last = x.shape.rank() - 1;
    if needs_size {
        known_size(layer, "feature count (last axis)", x, last).map(Some)
    } else {
        Ok(x.shape.0[last].as_lit())
    }
}

/// Layer normalisation over the last axis (mlx.nn.LayerNorm):
/// `(x - mean) / sqrt(var + eps) * weight + bias`.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm {
    /// Added to the variance.
    pub eps: f64,
    /// Whether there is a learned scale (`weight`, ones).
    pub affine: bool,
    /// Whether the affine map has a shift (`bias`, zeros).
    pub bias: bool,
}

impl LayerRule for LayerNorm {
    const NAME: &'static str = "LayerNorm";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::optional("eps", "a positive number", ArgValue::Float(1e-5)),
        ArgDef::optional("affine", "`true` or `false`", ArgValue::Bool(true)),
        ArgDef::optional(
            "bias",
            "`true` or `false` (with `affine`)",
            ArgValue::Bool(true),
        ),
    ];
    const SUMMARY: &'static str =
        "normalises the last axis to mean 0, variance 1, then scales and shifts; same shape";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(LayerNorm {
            eps: read_eps(args, Self::NAME)?,
            affine: args.bool("affine")?,
            bias: args.bool("bias")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        features(Self::NAME, x, 1, "at least one axis", self.affine)?;
        Ok(x.shape.clone())
    }

    fn weights(&self, inputs: &[Shape]) -> Vec<WeightSpec> {
        let n = inputs[0].0.last().and_then(|d| d.as_lit()).unwrap_or(1);
        let mut w = Vec::new();
        if self.affine {
            w.push(WeightSpec::param("weight", vec![n], Init::Ones));
            if self.bias {
                w.push(WeightSpec::param("bias", vec![n], Init::Zeros));
            }
        }
        w
    }
}

/// Root-mean-square normalisation over the last axis (mlx.nn.RMSNorm):
/// `x / sqrt(mean(x^2) + eps) * weight`.
#[derive(Clone, Debug, PartialEq)]
pub struct RmsNorm {
    /// Added to the mean square.
    pub eps: f64,
}

impl LayerRule for RmsNorm {
    const NAME: &'static str = "RmsNorm";
    const ARGS: &'static [ArgDef] = &[ArgDef::optional(
        "eps",
        "a positive number",
        ArgValue::Float(1e-5),
    )];
    const SUMMARY: &'static str =
        "divides the last axis by its root mean square, then scales (mlx.nn.RMSNorm); same shape";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(RmsNorm {
            eps: read_eps(args, Self::NAME)?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        features(Self::NAME, x, 1, "at least one axis", true)?;
        Ok(x.shape.clone())
    }

    fn weights(&self, inputs: &[Shape]) -> Vec<WeightSpec> {
        let n = inputs[0].0.last().and_then(|d| d.as_lit()).unwrap_or(1);
        vec![WeightSpec::param("weight", vec![n], Init::Ones)]
    }
}

/// Group normalisation (mlx.nn.GroupNorm): the features (last axis) fall
/// into `groups` groups, each normalised over every axis but the first
/// (the batch). As in mlx.nn, feature `f` belongs to group `f % groups`
/// unless `pytorch_compatible`, which uses contiguous blocks of features.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupNorm {
    /// Number of groups; must divide the feature count.
    pub groups: usize,
    /// Added to the variance.
    pub eps: f64,
    /// Whether there is a learned scale and shift.
    pub affine: bool,
    /// Group contiguous features, as PyTorch does.
    pub pytorch_compatible: bool,
}

impl LayerRule for GroupNorm {
    const NAME: &'static str = "GroupNorm";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("groups", "a positive integer dividing the feature count"),
        ArgDef::optional("eps", "a positive number", ArgValue::Float(1e-5)),
        ArgDef::optional("affine", "`true` or `false`", ArgValue::Bool(true)),
        ArgDef::optional(
            "pytorch_compatible",
            "`true` or `false`",
            ArgValue::Bool(false),
        ),
    ];
    const SUMMARY: &'static str =
        "normalises groups of features (last axis) per sample: [N, .., C] -> same shape";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(GroupNorm {
            groups: args.positive("groups")?,
            eps: read_eps(args, Self::NAME)?,
            affine: args.bool("affine")?,
            pytorch_compatible: args.bool("pytorch_compatible")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        let n = features(Self::NAME, x, 2, "[N, .., features]", true)?.unwrap_or(1);
        if n % self.groups != 0 {
            return Err(ShapeError::new(format!(
                "`GroupNorm` needs the feature count {n} to be divisible by groups = {}, but {} has shape {}",
                self.groups, x.label, x.shape
            )));
        }
        Ok(x.shape.clone())
    }

    fn weights(&self, inputs: &[Shape]) -> Vec<WeightSpec> {
        let n = inputs[0].0.last().and_then(|d| d.as_lit()).unwrap_or(1);
        if !self.affine {
            return Vec::new();
        }
        vec![
            WeightSpec::param("weight", vec![n], Init::Ones),
            WeightSpec::param("bias", vec![n], Init::Zeros),
        ]
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __norm_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* BatchNorm, LayerNorm, RmsNorm, GroupNorm, Dropout,] [$($rest)*] }
    };
}

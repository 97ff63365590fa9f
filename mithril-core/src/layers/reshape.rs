use super::{LayerRule, Operand, ShapeError};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::dim::Dim;
use crate::shape::Shape;

/// Merges axes `start..=end` into one (defaults: all but the first).
#[derive(Clone, Debug, PartialEq)]
pub struct Flatten {
    /// First axis merged.
    pub start: i64,
    /// Last axis merged.
    pub end: i64,
}

impl LayerRule for Flatten {
    const NAME: &'static str = "Flatten";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::optional("start", "an axis", ArgValue::Int(1)),
        ArgDef::optional("end", "an axis", ArgValue::Int(-1)),
    ];
    const SUMMARY: &'static str = "merges axes start..=end: [N, H, W, C] -> [N, H*W*C]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Flatten {
            start: args.int("start")?,
            end: args.int("end")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        let (Some(start), Some(end)) = (x.shape.axis(self.start), x.shape.axis(self.end)) else {
            return Err(ShapeError::new(format!(
                "`Flatten` axes {}..={} are out of range for {} with shape {}",
                self.start, self.end, x.label, x.shape
            )));
        };
        if start > end {
            return Err(ShapeError::new(format!(
                "`Flatten` start axis {start} is after end axis {end}"
            )));
        }
        let merged = x.shape.0[start..=end]
            .iter()
            .fold(Dim::Lit(1), |acc, d| acc.mul(d));
        let mut dims = x.shape.0[..start].to_vec();
        dims.push(merged);
        dims.extend_from_slice(&x.shape.0[end + 1..]);
        Ok(Shape(dims))
    }
}

/// Reshapes to a target shape with the same number of elements
/// (`-1` once for the size that makes it fit).
#[derive(Clone, Debug, PartialEq)]
pub struct Reshape {
    /// The target; `None` is the `-1`.
    pub shape: Vec<Option<Dim>>,
}

impl LayerRule for Reshape {
    const NAME: &'static str = "Reshape";
    const ARGS: &'static [ArgDef] = &[ArgDef::required(
        "shape",
        "a shape such as `[B, 7, 7, 16]` (one `-1` allowed)",
    )];
    const SUMMARY: &'static str = "same elements, new shape: [B, 784] -> Reshape([B, 28, 28, 1])";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Reshape {
            shape: args.shape("shape")?.0,
        })
    }

    fn bind(&self, bindings: &crate::dim::Bindings) -> Self {
        let value = |s: &str| bindings.get(s).map(|&n| Dim::Lit(n));
        Reshape {
            shape: self
                .shape
                .iter()
                .map(|d| d.as_ref().map(|d| d.substitute(&value)))
                .collect(),
        }
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        let total = x.shape.product(0);
        let known = self
            .shape
            .iter()
            .flatten()
            .fold(Dim::Lit(1), |acc, d| acc.mul(d));
        let target = |fill: &str| {
            let dims: Vec<String> = self
                .shape
                .iter()
                .map(|d| d.as_ref().map_or_else(|| fill.to_string(), Dim::to_string))
                .collect();
            format!("[{}]", dims.join(", "))
        };
        let mismatch = || {
            ShapeError::new(format!(
                "`Reshape` cannot turn {} with shape {} ({} elements) into {} ({} elements)",
                x.label,
                x.shape,
                total,
                target("-1"),
                known
            ))
        };
        if self.shape.iter().any(Option::is_none) {
            let missing = total.exact_div(&known).ok_or_else(|| {
                let factors: Vec<String> =
                    self.shape.iter().flatten().map(Dim::to_string).collect();
                let product = match factors.len() {
                    0 | 1 => known.to_string(),
                    _ => format!("{} = {known}", factors.join(" * ")),
                };
                let divisible = match (total.as_lit(), known.as_lit()) {
                    (Some(_), Some(_)) => "are not divisible",
                    _ => "are not known to be divisible",
                };
                ShapeError::new(format!(
                    "`Reshape` cannot infer the -1 of {}: the {total} elements of {} with shape {} {divisible} by {product}",
                    target("-1"),
                    x.label,
                    x.shape,
                ))
            })?;
            Ok(Shape(
                self.shape
                    .iter()
                    .map(|d| d.clone().unwrap_or_else(|| missing.clone()))
                    .collect(),
            ))
        } else if total == known {
            Ok(Shape(self.shape.iter().flatten().cloned().collect()))
        } else {
            Err(mismatch())
        }
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __reshape_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Flatten, Reshape,] [$($rest)*] }
    };
}

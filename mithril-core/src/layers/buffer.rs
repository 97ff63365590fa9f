//! `Buffer`: an array the model owns but does not train, what a `buffer`
//! statement declares (`buffer centers: [8, 2];`).

use super::{Arity, Init, LAYER_ITSELF, LayerRule, Operand, ShapeError, WeightSpec};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::dim::Dim;
use crate::shape::Shape;

/// A named array of fixed shape that is part of the model's state: saved
/// and loaded with the parameters, never trained (no optimizer state, no
/// gradient: it is read through a stop-gradient). Written as a statement,
/// `buffer centers: [8, 2];` or `buffer scale: [1] = 0.5;`; its value is
/// the field `params.centers`, set like any parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Buffer {
    /// Its sizes.
    pub shape: Vec<usize>,
    /// Its initial value, in every element.
    pub fill: f64,
}

impl LayerRule for Buffer {
    const NAME: &'static str = "Buffer";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("shape", "a shape of sizes such as `[8, 2]`"),
        ArgDef::optional("fill", "a number", ArgValue::Int(0)),
    ];
    const INPUTS: Arity = Arity::Exactly(0);
    const SUMMARY: &'static str = "state the model owns but does not train (a `buffer` statement): saved with the parameters, no gradient";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let (dims, _) = args.shape("shape")?;
        let mut shape = Vec::with_capacity(dims.len());
        for d in dims {
            match d {
                Some(Dim::Lit(n)) => shape.push(n),
                other => {
                    let found = other.map_or("-1".to_string(), |d| d.to_string());
                    return Err(args.error(
                        "shape",
                        format!(
                            "a buffer's sizes must be numbers, found `{found}`: it is stored with the parameters, whose shapes are known while the crate compiles"
                        ),
                    ));
                }
            }
        }
        Ok(Buffer {
            shape,
            fill: args.float("fill")?,
        })
    }

    fn infer(&self, _: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        Ok(Shape::known(&self.shape))
    }

    fn weights(&self, _: &[Shape]) -> Vec<WeightSpec> {
        let init = if self.fill == 0.0 {
            Init::Zeros
        } else if self.fill == 1.0 {
            Init::Ones
        } else {
            Init::Fill { value: self.fill }
        };
        vec![WeightSpec::buffer(LAYER_ITSELF, self.shape.clone(), init)]
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __buffer_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Buffer,] [$($rest)*] }
    };
}

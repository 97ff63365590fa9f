//! Comparisons, which make boolean masks, and `Where`, which selects by one.

use super::combine::{binary, broadcast, broadcast_all};
use super::{Arity, LayerRule, Operand, ShapeError};
use crate::args::{ArgDef, ArgError, Args};
use crate::shape::Shape;

binary!(
    Greater,
    "a > b, elementwise with broadcasting: a boolean mask (no gradient)"
);
binary!(
    Less,
    "a < b, elementwise with broadcasting: a boolean mask (no gradient)"
);
binary!(
    Equal,
    "a == b, elementwise with broadcasting: a boolean mask (no gradient)"
);

/// `cond ? a : b`, elementwise with broadcasting (mx.where).
#[derive(Clone, Debug, PartialEq)]
pub struct Where;

impl LayerRule for Where {
    const NAME: &'static str = "Where";
    const ARGS: &'static [ArgDef] = &[];
    const INPUTS: Arity = Arity::Exactly(3);
    const SUMMARY: &'static str = "Where(cond, a, b): a where cond holds, else b, elementwise with broadcasting of all three (mx.where); gradients flow to the chosen side";

    fn from_args(_: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Where)
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        broadcast_all(Self::NAME, inputs)
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Greater, Less, Equal, Where,] [$($rest)*] }
    };
}

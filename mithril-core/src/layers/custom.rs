use std::any::Any;
use std::fmt;
use std::sync::Arc;

use super::{LayerRule, Operand, ShapeError};
use crate::args::{ArgDef, ArgError, ArgValue, Args, Str};
use crate::shape::Shape;

/// What a custom op declares about its output shape.
#[derive(Clone, Debug, PartialEq)]
pub enum LambdaShape {
    /// The input's shape (activations).
    Same,
    /// A declared shape; its symbols are the model's.
    Fixed(Shape),
}

/// A user function applied to one input: `Lambda(my_ops::swish, shape = same)`.
///
/// The function is `fn(&mlx_rs::Array) -> Result<mlx_rs::Array, mlx_rs::error::Exception>`;
/// it is traced into compiled steps and differentiated like built-in layers.
#[derive(Clone, Debug, PartialEq)]
pub struct Lambda {
    /// The function.
    pub function: CustomFunction,
    /// Its shape rule.
    pub shape: LambdaShape,
}

/// A Rust function a layer calls: its path as written (normalised by the
/// macro: `(f)` and `f` are both `f`) and, once the backend attached it,
/// the function itself (core knows nothing of arrays).
#[derive(Clone, Debug, PartialEq)]
pub struct CustomFunction {
    /// The path, `my_ops::swish`.
    pub path: Str,
    /// The backend's function value.
    pub handle: Option<CustomHandle>,
}

/// A backend's function value for a [`Lambda`], compared by identity.
#[derive(Clone)]
pub struct CustomHandle(pub Arc<dyn Any + Send + Sync>);

impl PartialEq for CustomHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for CustomHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CustomHandle(..)")
    }
}

impl LayerRule for Lambda {
    const NAME: &'static str = "Lambda";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required(
            "function",
            "a path to a function `fn(&Array) -> Result<Array, Exception>`",
        ),
        ArgDef::optional(
            "shape",
            "`same` or a shape such as `[B, 10]`",
            ArgValue::word("same"),
        ),
    ];
    const SUMMARY: &'static str = "a user function with a declared shape rule (custom op)";
    const FUNCTION_ARG: Option<&'static str> = Some("function");

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let path = match args.value("function") {
            Some((_, ArgValue::Path(p) | ArgValue::Ident(p))) => p.clone(),
            Some((site, v)) => return Err(args.invalid("function", v, site)),
            None => {
                return Err(args.error(
                    "function",
                    "`Lambda` needs a function path as its first argument",
                ));
            }
        };
        let shape = match args.value("shape") {
            Some((_, ArgValue::Ident(w))) if w == "same" => LambdaShape::Same,
            _ => LambdaShape::Fixed(args.declared_shape("shape")?),
        };
        Ok(Lambda {
            function: CustomFunction { path, handle: None },
            shape,
        })
    }

    fn function_mut(&mut self) -> Option<&mut CustomFunction> {
        Some(&mut self.function)
    }

    fn bind(&self, bindings: &crate::dim::Bindings) -> Self {
        let value = |s: &str| bindings.get(s).map(|&n| crate::dim::Dim::Lit(n));
        let shape = match &self.shape {
            LambdaShape::Fixed(s) => LambdaShape::Fixed(s.substitute(&value)),
            LambdaShape::Same => LambdaShape::Same,
        };
        Lambda {
            shape,
            ..self.clone()
        }
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        Ok(match &self.shape {
            LambdaShape::Same => inputs[0].shape.clone(),
            LambdaShape::Fixed(s) => s.clone(),
        })
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __custom_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Lambda,] [$($rest)*] }
    };
}

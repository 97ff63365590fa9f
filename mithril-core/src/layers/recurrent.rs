//! Recurrent layers over sequences `[B, T, F]` (mlx.nn.LSTM, mlx.nn.GRU),
//! returning the hidden state of every step.

use super::{Init, LayerRule, Operand, ShapeError, WeightSpec, known_size};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::dim::Dim;
use crate::shape::Shape;

/// The shared shape rule: `[B, T, F]` (F known) -> `[B, T, hidden]`.
fn infer_sequence(layer: &str, hidden: usize, x: &Operand<'_>) -> Result<Shape, ShapeError> {
    if x.shape.rank() != 3 {
        return Err(ShapeError::new(format!(
            "`{layer}` expects a sequence of rank 3 [B, T, F] (batch, steps, features), found {} with shape {} (rank {})",
            x.label,
            x.shape,
            x.shape.rank()
        )));
    }
    known_size(layer, "feature size (last axis)", x, 2)?;
    Ok(Shape(vec![
        x.shape.0[0].clone(),
        x.shape.0[1].clone(),
        Dim::Lit(hidden),
    ]))
}

fn features(inputs: &[Shape]) -> usize {
    inputs[0].0.last().and_then(Dim::as_lit).unwrap_or(1)
}

/// mlx.nn.LSTM: gates `i, f, g, o` from `x_t Wx^T + h_{t-1} Wh^T + bias`,
/// zero initial hidden and cell states.
#[derive(Clone, Debug, PartialEq)]
pub struct Lstm {
    /// Size of the hidden (and cell) state.
    pub hidden: usize,
    /// Whether there is a bias.
    pub bias: bool,
}

impl LayerRule for Lstm {
    const NAME: &'static str = "Lstm";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("hidden", "a positive integer"),
        ArgDef::optional("bias", "`true` or `false`", ArgValue::Bool(true)),
    ];
    const SUMMARY: &'static str =
        "mlx.nn.LSTM, every step's hidden state: [B, T, F] -> [B, T, hidden]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Lstm {
            hidden: args.positive("hidden")?,
            bias: args.bool("bias")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        infer_sequence(Self::NAME, self.hidden, &inputs[0])
    }

    fn weights(&self, inputs: &[Shape]) -> Vec<WeightSpec> {
        let h = self.hidden;
        let init = Init::Uniform {
            bound: (1.0 / h as f64).sqrt(),
        };
        let mut w = vec![
            WeightSpec::param("Wx", vec![4 * h, features(inputs)], init),
            WeightSpec::param("Wh", vec![4 * h, h], init),
        ];
        if self.bias {
            w.push(WeightSpec::param("bias", vec![4 * h], init));
        }
        w
    }
}

/// mlx.nn.GRU: `r, z` from `x_t Wx^T + b + h_{t-1} Wh^T`, candidate
/// `n = tanh(x_t Wx_n^T + b_n + r * (h_{t-1} Wh_n^T + bhn))`,
/// `h_t = (1 - z) n + z h_{t-1}`, zero initial state.
#[derive(Clone, Debug, PartialEq)]
pub struct Gru {
    /// Size of the hidden state.
    pub hidden: usize,
    /// Whether there are biases (`b` and `bhn`).
    pub bias: bool,
}

impl LayerRule for Gru {
    const NAME: &'static str = "Gru";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("hidden", "a positive integer"),
        ArgDef::optional("bias", "`true` or `false`", ArgValue::Bool(true)),
    ];
    const SUMMARY: &'static str =
        "mlx.nn.GRU, every step's hidden state: [B, T, F] -> [B, T, hidden]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Gru {
            hidden: args.positive("hidden")?,
            bias: args.bool("bias")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        infer_sequence(Self::NAME, self.hidden, &inputs[0])
    }

    fn weights(&self, inputs: &[Shape]) -> Vec<WeightSpec> {
        let h = self.hidden;
        let init = Init::Uniform {
            bound: (1.0 / h as f64).sqrt(),
        };
        let mut w = vec![
            WeightSpec::param("Wx", vec![3 * h, features(inputs)], init),
            WeightSpec::param("Wh", vec![3 * h, h], init),
        ];
        if self.bias {
            w.push(WeightSpec::param("b", vec![3 * h], init));
            w.push(WeightSpec::param("bhn", vec![h], init));
        }
        w
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __recurrent_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Lstm, Gru,] [$($rest)*] }
    };
}

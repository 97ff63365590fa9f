//! Attention: scaled dot-product attention, multi-head attention and rotary
//! position embeddings (mlx.core.fast / mlx.nn semantics).

use super::{Arity, Init, LayerRule, Operand, ShapeError, WeightSpec, known_size};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::dim::Dim;
use crate::shape::Shape;

/// Checks that two operands agree on an axis, naming both in the error.
fn same_axis(
    layer: &str,
    what: &str,
    a: &Operand<'_>,
    axis_a: usize,
    b: &Operand<'_>,
    axis_b: usize,
) -> Result<(), ShapeError> {
    let (da, db) = (&a.shape.0[axis_a], &b.shape.0[axis_b]);
    if da == db {
        Ok(())
    } else {
        Err(ShapeError::new(format!(
            "`{layer}` needs {what} to match: {} is {}, {} is {} ({da} vs {db})",
            a.label, a.shape, b.label, b.shape
        )))
    }
}

/// Checks an operand's rank, naming its role in the error.
fn expect_rank_of(
    layer: &str,
    role: &str,
    x: &Operand<'_>,
    rank: usize,
    layout: &str,
) -> Result<(), ShapeError> {
    if x.shape.rank() == rank {
        Ok(())
    } else {
        Err(ShapeError::new(format!(
            "`{layer}` expects {role} of rank {rank} {layout}, found {} with shape {} (rank {})",
            x.label,
            x.shape,
            x.shape.rank()
        )))
    }
}

/// `softmax(q k^T / sqrt(D)) v` over heads (mx.fast.scaled_dot_product_attention).
#[derive(Clone, Debug, PartialEq)]
pub struct ScaledDotProductAttention {
    /// Whether query `i` attends only to keys `j <= i + S - T` (MLX's
    /// `mask = "causal"`: with `T == S`, to itself and earlier positions).
    pub causal: bool,
}

impl LayerRule for ScaledDotProductAttention {
    const NAME: &'static str = "ScaledDotProductAttention";
    const ARGS: &'static [ArgDef] = &[ArgDef::optional(
        "causal",
        "`true` or `false`",
        ArgValue::Bool(false),
    )];
    const INPUTS: Arity = Arity::Exactly(3);
    const SUMMARY: &'static str = "softmax(q k^T / sqrt(D)) v: q [B, H, T, D], k [B, H, S, D], v [B, H, S, Dv] -> [B, H, T, Dv]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(ScaledDotProductAttention {
            causal: args.bool("causal")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        const NAME: &str = ScaledDotProductAttention::NAME;
        let (q, k, v) = (&inputs[0], &inputs[1], &inputs[2]);
        expect_rank_of(NAME, "queries", q, 4, "[B, H, T, D]")?;
        expect_rank_of(NAME, "keys", k, 4, "[B, H, S, D]")?;
        expect_rank_of(NAME, "values", v, 4, "[B, H, S, Dv]")?;
        for (other, role) in [(k, "keys"), (v, "values")] {
            same_axis(
                NAME,
                &format!("the batch size (axis 0) of the queries and the {role}"),
                q,
                0,
                other,
                0,
            )?;
            same_axis(
                NAME,
                &format!("the head count (axis 1) of the queries and the {role}"),
                q,
                1,
                other,
                1,
            )?;
        }
        same_axis(
            NAME,
            "the feature size (last axis) of the queries and the keys",
            q,
            3,
            k,
            3,
        )?;
        same_axis(
            NAME,
            "the sequence length (axis 2) of the keys and the values",
            k,
            2,
            v,
            2,
        )?;
        let mut out = q.shape.0.clone();
        out[3] = v.shape.0[3].clone();
        Ok(Shape(out))
    }
}

/// mlx.nn.MultiHeadAttention: projections of the queries, keys and values,
/// attention per head, and an output projection.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiHeadAttention {
    /// Width of the projections and of the output.
    pub dims: usize,
    /// Number of heads; divides `dims`.
    pub heads: usize,
    /// Whether each query attends only to earlier or equal positions.
    pub causal: bool,
    /// Whether the four projections have biases (mlx.nn: no).
    pub bias: bool,
}

impl LayerRule for MultiHeadAttention {
    const NAME: &'static str = "MultiHeadAttention";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("dims", "a positive integer"),
        ArgDef::required("heads", "a positive integer dividing `dims`"),
        ArgDef::optional("causal", "`true` or `false`", ArgValue::Bool(false)),
        ArgDef::optional("bias", "`true` or `false`", ArgValue::Bool(false)),
    ];
    const INPUTS: Arity = Arity::AtLeast(1);
    const SUMMARY: &'static str = "mlx.nn.MultiHeadAttention: query [B, T, Eq], key [B, S, Ek], value [B, S, Ev] (or one input x for self-attention) -> [B, T, dims]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let dims = args.positive("dims")?;
        let heads = args.positive("heads")?;
        if dims % heads != 0 {
            return Err(args.error(
                "heads",
                format!(
                    "`MultiHeadAttention` needs dims = {dims} to be divisible by heads = {heads}"
                ),
            ));
        }
        Ok(MultiHeadAttention {
            dims,
            heads,
            causal: args.bool("causal")?,
            bias: args.bool("bias")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        const NAME: &str = MultiHeadAttention::NAME;
        let (q, k, v) = match inputs {
            [x] => (x, x, x),
            [q, k, v] => (q, k, v),
            _ => {
                return Err(ShapeError::new(format!(
                    "`{NAME}` takes 1 input (self-attention) or 3 (query, key, value), found {}",
                    inputs.len()
                )));
            }
        };
        expect_rank_of(NAME, "the query", q, 3, "[B, T, E]")?;
        expect_rank_of(NAME, "the key", k, 3, "[B, S, E]")?;
        expect_rank_of(NAME, "the value", v, 3, "[B, S, E]")?;
        for x in [q, k, v] {
            known_size(NAME, "feature size (last axis)", x, 2)?;
        }
        same_axis(
            NAME,
            "the batch size (axis 0) of the query and the key",
            q,
            0,
            k,
            0,
        )?;
        same_axis(
            NAME,
            "the batch size (axis 0) of the key and the value",
            k,
            0,
            v,
            0,
        )?;
        same_axis(
            NAME,
            "the sequence length (axis 1) of the key and the value",
            k,
            1,
            v,
            1,
        )?;
        Ok(Shape(vec![
            q.shape.0[0].clone(),
            q.shape.0[1].clone(),
            Dim::Lit(self.dims),
        ]))
    }

    fn weights(&self, inputs: &[Shape]) -> Vec<WeightSpec> {
        let feature = |i: usize| {
            inputs
                .get(i)
                .unwrap_or(&inputs[0])
                .0
                .last()
                .and_then(Dim::as_lit)
                .unwrap_or(1)
        };
        let projections: [(&'static str, &'static str, usize); 4] = [
            ("query_proj.weight", "query_proj.bias", feature(0)),
            ("key_proj.weight", "key_proj.bias", feature(1)),
            ("value_proj.weight", "value_proj.bias", feature(2)),
            ("out_proj.weight", "out_proj.bias", self.dims),
        ];
        let mut w = Vec::new();
        for (weight, bias, fan_in) in projections {
            // mlx.nn.Linear's initialisation.
            let bound = (1.0 / fan_in as f64).sqrt();
            w.push(WeightSpec::param(
                weight,
                vec![self.dims, fan_in],
                Init::Uniform { bound },
            ));
            if self.bias {
                w.push(WeightSpec::param(
                    bias,
                    vec![self.dims],
                    Init::Uniform { bound },
                ));
            }
        }
        w
    }
}

/// Rotary position embedding (mlx.nn.RoPE, mx.fast.rope) over `[.., T, D]`:
/// positions along the second-to-last axis, the first `dims` features rotated.
#[derive(Clone, Debug, PartialEq)]
pub struct Rope {
    /// How many features (from the start of the last axis) are rotated; even.
    pub dims: usize,
    /// Rotate consecutive pairs (true) or pairs half the rotated width apart.
    pub traditional: bool,
    /// Base of the angular frequencies.
    pub base: f64,
    /// Scale of the positions.
    pub scale: f64,
}

impl LayerRule for Rope {
    const NAME: &'static str = "Rope";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("dims", "a positive even integer"),
        ArgDef::optional("traditional", "`true` or `false`", ArgValue::Bool(false)),
        ArgDef::optional("base", "a positive number", ArgValue::Int(10000)),
        ArgDef::optional("scale", "a number", ArgValue::Float(1.0)),
    ];
    const SUMMARY: &'static str =
        "rotary position embedding of the first dims features: [.., T, D] -> [.., T, D]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let dims = args.positive("dims")?;
        if dims % 2 != 0 {
            return Err(args.error(
                "dims",
                format!("`dims` of `Rope` must be even, found {dims}"),
            ));
        }
        let base = args.float("base")?;
        if base <= 0.0 {
            return Err(args.error(
                "base",
                format!("`base` of `Rope` must be positive, found {base}"),
            ));
        }
        Ok(Rope {
            dims,
            traditional: args.bool("traditional")?,
            base,
            scale: args.float("scale")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        if x.shape.rank() < 3 {
            return Err(ShapeError::new(format!(
                "`Rope` expects at least 3 axes [B, .., T, D] (MLX's rope needs them), found {} with shape {} (rank {})",
                x.label,
                x.shape,
                x.shape.rank()
            )));
        }
        let features = known_size("Rope", "feature size (last axis)", x, x.shape.rank() - 1)?;
        if self.dims > features {
            return Err(ShapeError::new(format!(
                "`Rope` rotates dims = {} features, but {} has only {features} (shape {}); expected dims <= {features}",
                self.dims, x.label, x.shape
            )));
        }
        Ok(x.shape.clone())
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __attention_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* ScaledDotProductAttention, MultiHeadAttention, Rope,] [$($rest)*] }
    };
}

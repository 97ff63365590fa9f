//! Layout and type ops without parameters: axis permutations, squeezes,
//! slices and casts.

use super::{LayerRule, Operand, ShapeError};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::dim::Dim;
use crate::shape::Shape;

/// Reads a list of integers, `[0, 2, 1]` (or a tuple); with `single`, a
/// lone integer is a list of one. `None` when the argument was not given.
pub(crate) fn int_list(
    args: &Args<'_>,
    layer: &str,
    name: &str,
    expects: &str,
    single: bool,
) -> Result<Option<Vec<i64>>, ArgError> {
    let Some((_, value)) = args.value(name) else {
        return Ok(None);
    };
    let bad = || {
        args.error(
            name,
            format!("argument `{name}` of `{layer}` must be {expects}, found `{value}`"),
        )
    };
    match value {
        ArgValue::Int(n) if single => Ok(Some(vec![*n])),
        ArgValue::List(items) | ArgValue::Tuple(items) => items
            .iter()
            .map(|v| match v {
                ArgValue::Int(n) => Ok(*n),
                _ => Err(bad()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Err(bad()),
    }
}

/// Normalises `axes` (negative ones count from the end) for `x`, refusing
/// axes out of range and axes given twice.
pub(crate) fn distinct_axes(
    layer: &str,
    axes: &[i64],
    x: &Operand<'_>,
) -> Result<Vec<usize>, ShapeError> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let Some(axis) = x.shape.axis(a) else {
            return Err(ShapeError::new(format!(
                "`{layer}` axis {a} is out of range for {} with shape {} (rank {})",
                x.label,
                x.shape,
                x.shape.rank()
            )));
        };
        if out.contains(&axis) {
            return Err(ShapeError::new(format!(
                "`{layer}` names axis {axis} twice (in {}) for {} with shape {}",
                list(axes),
                x.label,
                x.shape
            )));
        }
        out.push(axis);
    }
    Ok(out)
}

/// `[0, 2, 1]`
pub(crate) fn list(items: &[i64]) -> String {
    let items: Vec<String> = items.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(", "))
}

fn axis_error(layer: &str, axis: i64, x: &Operand<'_>) -> ShapeError {
    ShapeError::new(format!(
        "`{layer}` axis {axis} is out of range for {} with shape {} (rank {})",
        x.label,
        x.shape,
        x.shape.rank()
    ))
}

/// Reorders the axes: output axis `i` is input axis `axes[i]` (mx.transpose).
#[derive(Clone, Debug, PartialEq)]
pub struct Permute {
    /// A permutation of the input's axes (negative ones count from the end).
    pub axes: Vec<i64>,
}

impl Permute {
    /// The axes as non-negative indices for an input of `rank` axes.
    pub fn resolved(&self, rank: usize) -> Vec<usize> {
        self.axes
            .iter()
            .map(|&a| {
                if a < 0 {
                    (a + rank as i64) as usize
                } else {
                    a as usize
                }
            })
            .collect()
    }
}

impl LayerRule for Permute {
    const NAME: &'static str = "Permute";
    const ARGS: &'static [ArgDef] = &[ArgDef::required(
        "axes",
        "a list of axes such as `[0, 2, 1]`",
    )];
    const SUMMARY: &'static str =
        "reorders axes (mx.transpose): [N, L, C] -> Permute([0, 2, 1]) -> [N, C, L]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let axes = int_list(args, Self::NAME, "axes", Self::ARGS[0].expects, false)?;
        Ok(Permute {
            axes: axes.unwrap_or_default(),
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        let rank = x.shape.rank();
        let resolved: Option<Vec<usize>> = self.axes.iter().map(|&a| x.shape.axis(a)).collect();
        let is_permutation = self.axes.len() == rank
            && resolved.as_ref().is_some_and(|r| {
                let mut seen = vec![false; rank];
                r.iter().all(|&a| !std::mem::replace(&mut seen[a], true))
            });
        match resolved {
            Some(r) if is_permutation => {
                Ok(Shape(r.iter().map(|&a| x.shape.0[a].clone()).collect()))
            }
            _ => Err(ShapeError::new(format!(
                "`Permute` axes {} are not a permutation of the {rank} axes of {} (shape {}); give each of 0..{rank} once",
                list(&self.axes),
                x.label,
                x.shape
            ))),
        }
    }
}

/// Swaps two axes (mx.swapaxes).
#[derive(Clone, Debug, PartialEq)]
pub struct Transpose {
    /// One axis.
    pub a: i64,
    /// The other.
    pub b: i64,
}

impl LayerRule for Transpose {
    const NAME: &'static str = "Transpose";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("a", "an axis"),
        ArgDef::required("b", "an axis"),
    ];
    const SUMMARY: &'static str = "swaps two axes: [B, T, H, D] -> Transpose(1, 2) -> [B, H, T, D]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Transpose {
            a: args.int("a")?,
            b: args.int("b")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        let a = x
            .shape
            .axis(self.a)
            .ok_or_else(|| axis_error(Self::NAME, self.a, x))?;
        let b = x
            .shape
            .axis(self.b)
            .ok_or_else(|| axis_error(Self::NAME, self.b, x))?;
        let mut out = x.shape.clone();
        out.0.swap(a, b);
        Ok(out)
    }
}

/// Removes an axis of size 1 (mx.squeeze).
#[derive(Clone, Debug, PartialEq)]
pub struct Squeeze {
    /// The axis removed.
    pub axis: i64,
}

impl LayerRule for Squeeze {
    const NAME: &'static str = "Squeeze";
    const ARGS: &'static [ArgDef] = &[ArgDef::required("axis", "an axis of size 1")];
    const SUMMARY: &'static str =
        "removes an axis of literal size 1: [B, 1, 8] -> Squeeze(1) -> [B, 8]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Squeeze {
            axis: args.int("axis")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        let axis = x
            .shape
            .axis(self.axis)
            .ok_or_else(|| axis_error(Self::NAME, self.axis, x))?;
        match &x.shape.0[axis] {
            Dim::Lit(1) => {
                let mut out = x.shape.clone();
                out.0.remove(axis);
                Ok(out)
            }
            Dim::Lit(n) => Err(ShapeError::new(format!(
                "`Squeeze` can only remove an axis of size 1, but axis {axis} of {} (shape {}) has size {n}",
                x.label, x.shape
            ))),
            d => Err(ShapeError::new(format!(
                "`Squeeze` can only remove an axis of literal size 1, but axis {axis} of {} (shape {}) has the symbolic size `{d}`",
                x.label, x.shape
            ))),
        }
    }
}

/// Inserts an axis of size 1 (mx.expand_dims).
#[derive(Clone, Debug, PartialEq)]
pub struct Unsqueeze {
    /// The position of the new axis in the output (negative counts from the end).
    pub axis: i64,
}

impl LayerRule for Unsqueeze {
    const NAME: &'static str = "Unsqueeze";
    const ARGS: &'static [ArgDef] = &[ArgDef::required("axis", "an axis of the output")];
    const SUMMARY: &'static str =
        "inserts an axis of size 1 (mx.expand_dims): [B, 8] -> Unsqueeze(1) -> [B, 1, 8]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Unsqueeze {
            axis: args.int("axis")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        let rank = x.shape.rank() as i64 + 1;
        let axis = if self.axis < 0 {
            self.axis + rank
        } else {
            self.axis
        };
        if !(0..rank).contains(&axis) {
            return Err(ShapeError::new(format!(
                "`Unsqueeze` axis {} is out of range for the rank-{rank} output from {} with shape {}",
                self.axis, x.label, x.shape
            )));
        }
        let mut out = x.shape.clone();
        out.0.insert(axis as usize, Dim::Lit(1));
        Ok(out)
    }
}

/// Elements `start, start + step, ..` before `end` along one axis
/// (Python's `x[.., start:end:step]`; negative indices count from the end).
#[derive(Clone, Debug, PartialEq)]
pub struct Slice {
    /// The axis sliced.
    pub axis: i64,
    /// First index.
    pub start: i64,
    /// One past the last index; `None` is the end of the axis.
    pub end: Option<i64>,
    /// Distance between indices.
    pub step: usize,
}

impl Slice {
    /// The concrete `start..end` on an axis of `size`, when it is non-empty
    /// and within the axis.
    pub fn range(&self, size: usize) -> Option<(usize, usize)> {
        let n = size as i64;
        let at = |i: i64| if i < 0 { i + n } else { i };
        let (start, end) = (at(self.start), self.end.map_or(n, at));
        (0 <= start && start < end && end <= n).then_some((start as usize, end as usize))
    }

    fn written(&self) -> String {
        match self.end {
            Some(e) => format!("{}..{e}", self.start),
            None => format!("{}..", self.start),
        }
    }

    /// `ceil(len / step)` for a symbolic or literal length of at least 1.
    fn count(&self, len: Dim) -> Dim {
        if self.step == 1 {
            return len;
        }
        match len.sub(&Dim::Lit(1)) {
            Some(rest) => rest.floor_div(self.step).add(&Dim::Lit(1)),
            None => Dim::Lit(0),
        }
    }
}

impl LayerRule for Slice {
    const NAME: &'static str = "Slice";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("axis", "an axis"),
        ArgDef::required("start", "an index (negative counts from the end)"),
        ArgDef::derived(
            "end",
            "an index (negative counts from the end)",
            "the axis size",
        ),
        ArgDef::optional("step", "a positive integer", ArgValue::Int(1)),
    ];
    const SUMMARY: &'static str =
        "x[.., start:end:step] along one axis: [B, 10] -> Slice(1, 2, -2) -> [B, 6]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        Ok(Slice {
            axis: args.int("axis")?,
            start: args.int("start")?,
            end: args.optional("end", Args::int)?,
            step: args.positive("step")?,
        })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        let axis = x
            .shape
            .axis(self.axis)
            .ok_or_else(|| axis_error(Self::NAME, self.axis, x))?;
        let size = &x.shape.0[axis];
        let empty = || {
            ShapeError::new(format!(
                "`Slice` {} selects nothing of axis {axis} of {} (shape {}); `start` must come before `end`",
                self.written(),
                x.label,
                x.shape
            ))
        };
        let len = match size.as_lit() {
            Some(n) => {
                let (start, end) = self.range(n).ok_or_else(|| {
                    ShapeError::new(format!(
                        "`Slice` {} does not fit axis {axis} of {} (shape {}, size {n}); it needs a non-empty range within 0..{n}",
                        self.written(),
                        x.label,
                        x.shape
                    ))
                })?;
                Dim::Lit(end - start)
            }
            // A symbolic size: both ends counted from the same side.
            None => match (self.start, self.end) {
                (s, Some(e)) if s >= 0 && e >= 0 => {
                    if e <= s {
                        return Err(empty());
                    }
                    Dim::Lit((e - s) as usize)
                }
                (s, e) if s < 0 && e.is_none_or(|e| e < 0) => {
                    let e = e.unwrap_or(0);
                    if e <= s {
                        return Err(empty());
                    }
                    Dim::Lit((e - s) as usize)
                }
                (s, e) if s >= 0 && e.is_none_or(|e| e < 0) => {
                    let cut = s as usize + e.map_or(0, |e| e.unsigned_abs() as usize);
                    size.sub(&Dim::Lit(cut)).ok_or_else(empty)?
                }
                _ => {
                    return Err(ShapeError::new(format!(
                        "`Slice` {} cannot be sized on axis {axis} of {} (shape {}): the axis has the symbolic size `{size}`, so count `start` and `end` from the same side",
                        self.written(),
                        x.label,
                        x.shape
                    )));
                }
            },
        };
        let mut out = x.shape.clone();
        out.0[axis] = self.count(len);
        Ok(out)
    }
}

/// The element types `Cast` converts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CastDtype {
    /// 32-bit float.
    F32,
    /// 16-bit float.
    F16,
    /// bfloat16.
    Bf16,
}

/// Converts the elements to another float type; gradients flow back cast to
/// the input's type.
#[derive(Clone, Debug, PartialEq)]
pub struct Cast {
    /// The type of the output.
    pub dtype: CastDtype,
}

impl LayerRule for Cast {
    const NAME: &'static str = "Cast";
    const ARGS: &'static [ArgDef] = &[ArgDef::required("dtype", "`f32`, `f16` or `bf16`")];
    const SUMMARY: &'static str = "converts the element type (f32, f16, bf16); same shape";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let dtype = match args.word("dtype", &["f32", "f16", "bf16"])? {
            "f16" => CastDtype::F16,
            "bf16" => CastDtype::Bf16,
            _ => CastDtype::F32,
        };
        Ok(Cast { dtype })
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        Ok(inputs[0].shape.clone())
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __shape_ops_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Permute, Transpose, Squeeze, Unsqueeze, Slice, Cast,] [$($rest)*] }
    };
}

#[cfg(test)]
mod tests {
    use crate::args::{ArgSpec, ArgValue};
    use crate::dim::Dim;
    use crate::layers::{Layer, Operand};
    use crate::shape::Shape;

    fn int(n: i64) -> ArgSpec {
        ArgSpec {
            name: None,
            value: ArgValue::Int(n),
        }
    }

    fn named(name: &'static str, value: ArgValue) -> ArgSpec {
        ArgSpec {
            name: Some(name.into()),
            value,
        }
    }

    /// The output shape (or error) of `layer(args)` on `x` of `dims`.
    fn infer(layer: &str, args: &[ArgSpec], dims: Vec<Dim>) -> Result<String, String> {
        let layer = Layer::from_args(layer, args).unwrap().unwrap();
        let shape = Shape(dims);
        layer
            .infer(&[Operand {
                label: "`x`",
                shape: &shape,
            }])
            .map(|s| s.to_string())
            .map_err(|e| e.message)
    }

    #[test]
    fn slices_of_literal_and_symbolic_axes() {
        let lit = || vec![Dim::sym("B"), Dim::Lit(10)];
        let sym = || vec![Dim::sym("B"), Dim::sym("T")];
        let step = |n| named("step", ArgValue::Int(n));
        assert_eq!(
            infer("Slice", &[int(1), int(2), int(-2)], lit()).unwrap(),
            "[B, 6]"
        );
        assert_eq!(
            infer("Slice", &[int(1), int(-5), int(10), step(2)], lit()).unwrap(),
            "[B, 3]"
        );
        assert_eq!(
            infer("Slice", &[int(-1), int(0), int(10), step(3)], lit()).unwrap(),
            "[B, 4]"
        );
        assert!(
            infer("Slice", &[int(1), int(2), int(12)], lit())
                .unwrap_err()
                .contains("does not fit")
        );
        assert!(infer("Slice", &[int(1), int(5), int(5)], lit()).is_err());
        assert!(
            infer("Slice", &[int(2), int(0)], lit())
                .unwrap_err()
                .contains("axis 2 is out of range")
        );

        assert_eq!(
            infer("Slice", &[int(1), int(0), int(4)], sym()).unwrap(),
            "[B, 4]"
        );
        assert_eq!(infer("Slice", &[int(1), int(-3)], sym()).unwrap(), "[B, 3]");
        assert_eq!(
            infer("Slice", &[int(1), int(-3), int(-1)], sym()).unwrap(),
            "[B, 2]"
        );
        assert_eq!(
            infer("Slice", &[int(1), int(1), int(-1)], sym()).unwrap(),
            "[B, T - 2]"
        );
        assert_eq!(
            infer("Slice", &[int(1), int(2)], sym()).unwrap(),
            "[B, T - 2]"
        );
        assert_eq!(
            infer("Slice", &[int(1), int(0), int(-1), step(2)], sym()).unwrap(),
            "[B, (T - 2)/2 + 1]"
        );
        let mixed = infer("Slice", &[int(1), int(-3), int(5)], sym()).unwrap_err();
        assert!(mixed.contains("symbolic size `T`"), "{mixed}");
        assert!(
            infer("Slice", &[int(1), int(4), int(2)], sym())
                .unwrap_err()
                .contains("selects nothing")
        );
    }

    #[test]
    fn permutes_squeezes_and_reductions() {
        let x = || vec![Dim::sym("B"), Dim::Lit(1), Dim::Lit(5)];
        let list = |v: &[i64]| ArgValue::List(v.iter().map(|&n| ArgValue::Int(n)).collect());
        let axes = |v: &[i64]| ArgSpec {
            name: None,
            value: list(v),
        };
        assert_eq!(
            infer("Permute", &[axes(&[2, 0, 1])], x()).unwrap(),
            "[5, B, 1]"
        );
        assert_eq!(
            infer("Permute", &[axes(&[-1, 0, 1])], x()).unwrap(),
            "[5, B, 1]"
        );
        assert!(
            infer("Permute", &[axes(&[0, 1])], x())
                .unwrap_err()
                .contains("not a permutation")
        );
        assert!(infer("Permute", &[axes(&[0, 1, 3])], x()).is_err());
        assert_eq!(
            infer("Transpose", &[int(0), int(-1)], x()).unwrap(),
            "[5, 1, B]"
        );
        assert_eq!(infer("Squeeze", &[int(1)], x()).unwrap(), "[B, 5]");
        assert!(
            infer("Squeeze", &[int(2)], x())
                .unwrap_err()
                .contains("has size 5")
        );
        assert!(
            infer("Squeeze", &[int(0)], x())
                .unwrap_err()
                .contains("symbolic size `B`")
        );
        assert_eq!(infer("Unsqueeze", &[int(-1)], x()).unwrap(), "[B, 1, 5, 1]");
        assert_eq!(infer("Unsqueeze", &[int(0)], x()).unwrap(), "[1, B, 1, 5]");
        assert!(infer("Unsqueeze", &[int(4)], x()).is_err());

        assert_eq!(infer("Mean", &[], x()).unwrap(), "[]");
        assert_eq!(infer("Sum", &[axes(&[0, 2])], x()).unwrap(), "[1]");
        let keep = named("keepdims", ArgValue::Bool(true));
        assert_eq!(infer("Max", &[int(-1), keep], x()).unwrap(), "[B, 1, 1]");
        assert!(
            infer("Mean", &[axes(&[2, -1])], x())
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn group_norm_needs_divisible_features() {
        let x = || vec![Dim::sym("B"), Dim::Lit(10), Dim::Lit(30)];
        assert_eq!(infer("GroupNorm", &[int(3)], x()).unwrap(), "[B, 10, 30]");
        assert_eq!(
            infer("GroupNorm", &[int(4)], x()).unwrap_err(),
            "`GroupNorm` needs the feature count 30 to be divisible by groups = 4, but `x` has shape [B, 10, 30]"
        );
    }
}

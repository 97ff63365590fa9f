//! Max and average pooling, 1-D (NLC) and 2-D (NHWC), batched or not,
//! with symmetric or asymmetric padding.

use super::conv::{Sides, read_sides, window_output};
use super::{LayerRule, Operand, ShapeError};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::dim::Dim;
use crate::shape::Shape;

/// Arguments shared by the 2-D pools.
#[derive(Clone, Debug, PartialEq)]
pub struct Pool2d {
    /// Window height and width.
    pub kernel: [usize; 2],
    /// Stride (defaults to the kernel).
    pub stride: [usize; 2],
    /// Padding before and after, per spatial axis.
    pub padding: [Sides; 2],
}

const POOL_ARGS: &[ArgDef] = &[
    ArgDef::required("kernel", "a positive integer or a pair of them"),
    ArgDef::derived(
        "stride",
        "a positive integer or a pair of them",
        "the kernel",
    ),
    ArgDef::optional(
        "padding",
        "a non-negative integer, a pair `(h, w)` of them, or a pair per axis `((top, bottom), (left, right))`",
        ArgValue::Int(0),
    ),
];

/// Checks that no side pads more than half the window (mlx.nn's rule: a
/// window then never lies wholly in the padding).
fn padding_fits(args: &Args<'_>, kernel: &[usize], padding: &[Sides]) -> Result<(), ArgError> {
    let fits = kernel
        .iter()
        .zip(padding)
        .all(|(&k, &(a, b))| a * 2 <= k && b * 2 <= k);
    if fits {
        Ok(())
    } else {
        Err(args.error(
            "padding",
            "pool padding must be at most half the kernel on each side",
        ))
    }
}

/// The rank of a pool's input: batched (`spatial + 2` axes) or unbatched
/// (`spatial + 1`), as Mithril's pools take both; the first spatial axis.
///
/// An unbatched input's first axis is pooled. A symbol there named like a
/// batch ([`names_a_batch`]: `B` of `[B, T]`) says the input is batched but
/// lacks its channel axis, and reading it as unbatched would pool across
/// the batch: that is refused, saying what to write. Other sizes (`[L, 2]`,
/// `[16, 4]`) are unbatched inputs.
fn spatial_start(
    layer: &str,
    x: &Operand<'_>,
    spatial: usize,
    layout: &str,
    unbatched: &str,
) -> Result<usize, ShapeError> {
    match x.shape.rank() {
        r if r == spatial + 2 => Ok(1),
        r if r == spatial + 1 => match &x.shape.0[0] {
            Dim::Sym(first) if names_a_batch(first) => {
                let mut with_channels = x.shape.clone();
                with_channels.0.push(Dim::Lit(1));
                Err(ShapeError::new(format!(
                    "`{layer}` reads a rank-{r} input as unbatched {unbatched}, pooling its first axis, but {} has shape {} whose first axis `{first}` names a batch; if it is a batch without a channel axis, add one, `Unsqueeze({r})` or `Reshape({with_channels})`, making it {with_channels} ({layout}); if `{first}` is a size to pool over, name it otherwise",
                    x.label, x.shape,
                )))
            }
            _ => Ok(0),
        },
        _ => Err(ShapeError::new(format!(
            "`{layer}` expects a rank-{} input {layout} (or rank {} without the batch axis, {unbatched}), found {} with shape {}",
            spatial + 2,
            spatial + 1,
            x.label,
            x.shape
        ))),
    }
}

/// Whether a symbolic size is named as batches conventionally are: `B`,
/// `N`, or a name that starts with "batch" (any case).
fn names_a_batch(symbol: &str) -> bool {
    matches!(symbol, "B" | "N")
        || symbol
            .get(..5)
            .is_some_and(|s| s.eq_ignore_ascii_case("batch"))
}

impl Pool2d {
    fn from_args(args: &Args<'_>) -> Result<Pool2d, ArgError> {
        let kernel = args.pair("kernel")?;
        let stride = args.optional("stride", Args::pair)?.unwrap_or(kernel);
        let padding = read_sides(args, "padding", 2)?;
        padding_fits(args, &kernel, &padding)?;
        Ok(Pool2d {
            kernel,
            stride,
            padding,
        })
    }

    fn infer(&self, layer: &str, x: &Operand<'_>) -> Result<Shape, ShapeError> {
        let h = spatial_start(layer, x, 2, "[N, H, W, C]", "[H, W, C]")?;
        let mut out = x.shape.clone();
        for i in 0..2 {
            out.0[h + i] = window_output(
                layer,
                x,
                h + i,
                self.kernel[i],
                self.stride[i],
                self.padding[i],
                1,
            )?;
        }
        Ok(out)
    }
}

macro_rules! pool {
    ($name:ident, $summary:literal) => {
        #[doc = $summary]
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name(pub Pool2d);

        impl LayerRule for $name {
            const NAME: &'static str = stringify!($name);
            const ARGS: &'static [ArgDef] = POOL_ARGS;
            const SUMMARY: &'static str = $summary;

            fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
                Pool2d::from_args(args).map($name)
            }

            fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
                self.0.infer(Self::NAME, &inputs[0])
            }
        }
    };
}

pool!(
    MaxPool2d,
    "2-D max pooling, NHWC: [N, H, W, C] -> [N, H', W', C], or unbatched [H, W, C] -> [H', W', C] unless H names a batch (`B`, `N`, `batch..`)"
);
pool!(
    AvgPool2d,
    "2-D average pooling, NHWC: [N, H, W, C] -> [N, H', W', C], or unbatched [H, W, C] -> [H', W', C] unless H names a batch (`B`, `N`, `batch..`)"
);

/// Arguments shared by the 1-D pools.
#[derive(Clone, Debug, PartialEq)]
pub struct Pool1d {
    /// Window length.
    pub kernel: usize,
    /// Stride (defaults to the kernel).
    pub stride: usize,
    /// Padding before and after.
    pub padding: Sides,
}

const POOL1D_ARGS: &[ArgDef] = &[
    ArgDef::required("kernel", "a positive integer"),
    ArgDef::derived("stride", "a positive integer", "the kernel"),
    ArgDef::optional(
        "padding",
        "a non-negative integer or a pair `(before, after)` of them",
        ArgValue::Int(0),
    ),
];

impl Pool1d {
    fn from_args(args: &Args<'_>) -> Result<Pool1d, ArgError> {
        let kernel = args.positive("kernel")?;
        let stride = args.optional("stride", Args::positive)?.unwrap_or(kernel);
        let padding = read_sides(args, "padding", 1)?[0];
        padding_fits(args, &[kernel], &[padding])?;
        Ok(Pool1d {
            kernel,
            stride,
            padding,
        })
    }

    fn infer(&self, layer: &str, x: &Operand<'_>) -> Result<Shape, ShapeError> {
        let l = spatial_start(layer, x, 1, "[N, L, C]", "[L, C]")?;
        let mut out = x.shape.clone();
        out.0[l] = window_output(layer, x, l, self.kernel, self.stride, self.padding, 1)?;
        Ok(out)
    }
}

macro_rules! pool1d {
    ($name:ident, $summary:literal) => {
        #[doc = $summary]
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name(pub Pool1d);

        impl LayerRule for $name {
            const NAME: &'static str = stringify!($name);
            const ARGS: &'static [ArgDef] = POOL1D_ARGS;
            const SUMMARY: &'static str = $summary;

            fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
                Pool1d::from_args(args).map($name)
            }

            fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
                self.0.infer(Self::NAME, &inputs[0])
            }
        }
    };
}

pool1d!(
    MaxPool1d,
    "1-D max pooling, NLC: [N, L, C] -> [N, L', C], or unbatched [L, C] -> [L', C] unless L names a batch (`B`, `N`, `batch..`)"
);
pool1d!(
    AvgPool1d,
    "1-D average pooling, NLC: [N, L, C] -> [N, L', C], or unbatched [L, C] -> [L', C] unless L names a batch (`B`, `N`, `batch..`)"
);

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __pool_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* MaxPool1d, AvgPool1d, MaxPool2d, AvgPool2d,] [$($rest)*] }
    };
}

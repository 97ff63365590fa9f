use super::{Init, LayerRule, Operand, ShapeError, WeightSpec, expect_rank, known_size};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::dim::Dim;
use crate::shape::Shape;

/// The zeros (or -inf, for max pooling) added before and after one
/// spatial axis: `(before, after)`, equal unless given as a pair.
pub type Sides = (usize, usize);

/// How a convolution or pool pads its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Keep the spatial size (stride 1, odd dilated kernel).
    Same,
    /// No padding.
    Valid,
    /// This much before and after, per spatial axis (a 1-D layer uses the first).
    Explicit([Sides; 2]),
}

impl Padding {
    /// Reads `same`, `valid` or an explicit padding (see [`read_sides`]).
    pub(crate) fn read(args: &Args<'_>, name: &str, axes: usize) -> Result<Padding, ArgError> {
        Ok(match args.value(name) {
            Some((_, ArgValue::Ident(w))) if w == "same" => Padding::Same,
            Some((_, ArgValue::Ident(w))) if w == "valid" => Padding::Valid,
            _ => Padding::Explicit(read_sides(args, name, axes)?),
        })
    }

    /// The padding per side of each axis for this kernel and dilation.
    pub fn amounts(self, kernel: [usize; 2], dilation: [usize; 2]) -> [Sides; 2] {
        match self {
            Padding::Same => [0, 1].map(|i| {
                let p = dilation[i] * (kernel[i] - 1) / 2;
                (p, p)
            }),
            Padding::Valid => [(0, 0); 2],
            Padding::Explicit(p) => p,
        }
    }
}

/// An explicit padding of `axes` spatial axes (1 or 2), as Mithril writes
/// it: one number for every side; for 1-D, a pair `(before, after)`; for
/// 2-D, a pair per axis, each a number (both sides) or a pair:
/// `(1, 2)` is 1 on both sides of H and 2 on both sides of W,
/// `((1, 0), (2, 1))` is 1 above, 0 below, 2 left and 1 right. Unused axes
/// are `(0, 0)`.
pub(crate) fn read_sides(args: &Args<'_>, name: &str, axes: usize) -> Result<[Sides; 2], ArgError> {
    let (site, value) = args.present(name)?;
    let count = |v: &ArgValue| match v {
        ArgValue::Int(n) if *n >= 0 => Some(*n as usize),
        _ => None,
    };
    let sides = |v: &ArgValue| match v {
        ArgValue::Tuple(items) => match &items[..] {
            [a, b] => Some((count(a)?, count(b)?)),
            _ => None,
        },
        other => count(other).map(|n| (n, n)),
    };
    let found = match (value, axes) {
        (ArgValue::Int(_), _) => count(value).map(|n| [(n, n); 2]),
        (ArgValue::Tuple(_), 1) => sides(value).map(|s| [s, (0, 0)]),
        (ArgValue::Tuple(items), _) => match &items[..] {
            [h, w] => sides(h).zip(sides(w)).map(|(h, w)| [h, w]),
            _ => None,
        },
        _ => None,
    };
    found.ok_or_else(|| args.invalid(name, value, site))
}

/// The output size of a sliding window along one axis:
/// `(size + before + after - dilation * (kernel - 1) - 1) / stride + 1`.
pub(crate) fn window_output(
    layer: &str,
    input: &Operand<'_>,
    axis: usize,
    kernel: usize,
    stride: usize,
    pad: Sides,
    dilation: usize,
) -> Result<Dim, ShapeError> {
    let size = &input.shape.0[axis];
    let span = dilation * (kernel - 1) + 1;
    let padded = size.add(&Dim::Lit(pad.0 + pad.1));
    match padded.sub(&Dim::Lit(span)) {
        Some(rest) => Ok(rest.floor_div(stride).add(&Dim::Lit(1))),
        None => {
            let padding = match pad {
                (a, b) if a == b => a.to_string(),
                (a, b) => format!("({a}, {b})"),
            };
            Err(ShapeError::new(format!(
                "`{layer}` window of {span} does not fit axis {axis} of {} (shape {}, size {} with padding {padding})",
                input.label, input.shape, size
            )))
        }
    }
}

/// 2-D convolution over NHWC input (mlx.nn.Conv2d; weight [filters, kh, kw, in]).
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    /// Output channels.
    pub filters: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride.
    pub stride: [usize; 2],
    /// Padding.
    pub padding: Padding,
    /// Dilation.
    pub dilation: [usize; 2],
    /// Whether there is a bias.
    pub bias: bool,
}

impl LayerRule for Conv2d {
    const NAME: &'static str = "Conv2d";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("filters", "a positive integer"),
        ArgDef::required("kernel", "a positive integer or a pair of them"),
        ArgDef::optional(
            "stride",
            "a positive integer or a pair of them",
            ArgValue::Int(1),
        ),
        ArgDef::optional(
            "padding",
            "`same`, `valid`, a non-negative integer, a pair `(h, w)` of them, or a pair per axis `((top, bottom), (left, right))`",
            ArgValue::word("valid"),
        ),
        ArgDef::optional(
            "dilation",
            "a positive integer or a pair of them",
            ArgValue::Int(1),
        ),
        ArgDef::optional("bias", "`true` or `false`", ArgValue::Bool(true)),
    ];
    const SUMMARY: &'static str = "2-D convolution, NHWC: [N, H, W, C] -> [N, H', W', filters]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let conv = Conv2d {
            filters: args.positive("filters")?,
            kernel: args.pair("kernel")?,
            stride: args.pair("stride")?,
            padding: Padding::read(args, "padding", 2)?,
            dilation: args.pair("dilation")?,
            bias: args.bool("bias")?,
        };
        if conv.padding == Padding::Same {
            let even = (0..2).any(|i| !(conv.dilation[i] * (conv.kernel[i] - 1)).is_multiple_of(2));
            if even || conv.stride != [1, 1] {
                return Err(args.error(
                    "padding",
                    "`padding = same` needs stride 1 and an odd kernel; give the padding as a number instead",
                ));
            }
        }
        Ok(conv)
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        expect_rank("Conv2d", x, 4, "[N, H, W, C]")?;
        known_size("Conv2d", "channel count (last axis)", x, 3)?;
        let pad = self.padding.amounts(self.kernel, self.dilation);
        let h = window_output(
            "Conv2d",
            x,
            1,
            self.kernel[0],
            self.stride[0],
            pad[0],
            self.dilation[0],
        )?;
        let w = window_output(
            "Conv2d",
            x,
            2,
            self.kernel[1],
            self.stride[1],
            pad[1],
            self.dilation[1],
        )?;
        Ok(Shape(vec![
            x.shape.0[0].clone(),
            h,
            w,
            Dim::Lit(self.filters),
        ]))
    }

    fn weights(&self, inputs: &[Shape]) -> Vec<WeightSpec> {
        let channels = inputs[0].0.get(3).and_then(Dim::as_lit).unwrap_or(1);
        let fan_in = channels as f64 * self.kernel[0] as f64 * self.kernel[1] as f64;
        let bound = (1.0 / fan_in).sqrt();
        let shape = vec![self.filters, self.kernel[0], self.kernel[1], channels];
        let mut w = vec![WeightSpec::param("weight", shape, Init::Uniform { bound })];
        if self.bias {
            w.push(WeightSpec::param("bias", vec![self.filters], Init::Zeros));
        }
        w
    }
}

/// 1-D convolution over NLC input (mlx.nn.Conv1d; weight [filters, kernel, in]).
#[derive(Clone, Debug, PartialEq)]
pub struct Conv1d {
    /// Output channels.
    pub filters: usize,
    /// Kernel length.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Padding (of an `Explicit` padding, the first axis's).
    pub padding: Padding,
    /// Dilation.
    pub dilation: usize,
    /// Whether there is a bias.
    pub bias: bool,
}

impl Conv1d {
    /// The zeros added before and after the sequence.
    pub fn pad(&self) -> Sides {
        self.padding.amounts([self.kernel, 1], [self.dilation, 1])[0]
    }
}

impl LayerRule for Conv1d {
    const NAME: &'static str = "Conv1d";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("filters", "a positive integer"),
        ArgDef::required("kernel", "a positive integer"),
        ArgDef::optional("stride", "a positive integer", ArgValue::Int(1)),
        ArgDef::optional(
            "padding",
            "`same`, `valid`, a non-negative integer or a pair `(before, after)` of them",
            ArgValue::word("valid"),
        ),
        ArgDef::optional("dilation", "a positive integer", ArgValue::Int(1)),
        ArgDef::optional("bias", "`true` or `false`", ArgValue::Bool(true)),
    ];
    const SUMMARY: &'static str = "1-D convolution, NLC: [N, L, C] -> [N, L', filters]";

    fn from_args(args: &Args<'_>) -> Result<Self, ArgError> {
        let conv = Conv1d {
            filters: args.positive("filters")?,
            kernel: args.positive("kernel")?,
            stride: args.positive("stride")?,
            padding: Padding::read(args, "padding", 1)?,
            dilation: args.positive("dilation")?,
            bias: args.bool("bias")?,
        };
        if conv.padding == Padding::Same
            && (!(conv.dilation * (conv.kernel - 1)).is_multiple_of(2) || conv.stride != 1)
        {
            return Err(args.error(
                "padding",
                "`Conv1d` with `padding = same` needs stride 1 and an odd kernel (after dilation); give the padding as a number instead",
            ));
        }
        Ok(conv)
    }

    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let x = &inputs[0];
        expect_rank("Conv1d", x, 3, "[N, L, C]")?;
        known_size("Conv1d", "channel count (last axis)", x, 2)?;
        let l = window_output(
            "Conv1d",
            x,
            1,
            self.kernel,
            self.stride,
            self.pad(),
            self.dilation,
        )?;
        Ok(Shape(vec![x.shape.0[0].clone(), l, Dim::Lit(self.filters)]))
    }

    fn weights(&self, inputs: &[Shape]) -> Vec<WeightSpec> {
        let channels = inputs[0].0.get(2).and_then(Dim::as_lit).unwrap_or(1);
        let bound = (1.0 / (channels as f64 * self.kernel as f64)).sqrt();
        let shape = vec![self.filters, self.kernel, channels];
        let mut w = vec![WeightSpec::param("weight", shape, Init::Uniform { bound })];
        if self.bias {
            w.push(WeightSpec::param("bias", vec![self.filters], Init::Zeros));
        }
        w
    }
}

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __conv_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* Conv1d, Conv2d,] [$($rest)*] }
    };
}

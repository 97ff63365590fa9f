use super::{Init, LayerRule, Operand, ShapeError, WeightSpec, expect_rank, known_size};
use crate::args::{ArgDef, ArgError, ArgValue, Args};
use crate::dim::Dim;
use crate::shape::Shape;

/// How a convolution or pool pads its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Keep the spatial size (stride 1, odd dilated kernel).
    Same,
    /// No padding.
    Valid,
    /// This many zeros before and after, per spatial axis.
    Explicit([usize; 2]),
}

impl Padding {
    /// Reads `same`, `valid`, `N` or `(N, M)`.
    pub(crate) fn read(args: &Args<'_>, name: &str) -> Result<Padding, ArgError> {
        Ok(match args.get(name) {
            None => Padding::Valid,
            Some((_, ArgValue::Ident(w))) if w == "same" => Padding::Same,
            Some((_, ArgValue::Ident(w))) if w == "valid" => Padding::Valid,
            Some(_) => Padding::Explicit(args.pair_or_zero(name)?),
        })
    }

    /// The padding per side for this kernel and dilation.
    pub fn amounts(self, kernel: [usize; 2], dilation: [usize; 2]) -> [usize; 2] {
        match self {
            Padding::Same => [
                dilation[0] * (kernel[0] - 1) / 2,
                dilation[1] * (kernel[1] - 1) / 2,
            ],
            Padding::Valid => [0, 0],
            Padding::Explicit(p) => p,
        }
    }
}

impl Args<'_> {
    /// A non-negative integer or pair (paddings may be zero).
    /// Errors name the layer, what it accepts (its own `expects`: pools take
    /// no `same`) and the value found.
    pub(crate) fn pair_or_zero(&self, name: &str) -> Result<[usize; 2], ArgError> {
        match self.get(name) {
            None => Ok([0, 0]),
            Some((_, ArgValue::Int(n))) if *n >= 0 => Ok([*n as usize; 2]),
            Some((site, v @ ArgValue::Tuple(items))) => match &items[..] {
                [ArgValue::Int(a), ArgValue::Int(b)] if *a >= 0 && *b >= 0 => {
                    Ok([*a as usize, *b as usize])
                }
                _ => Err(self.invalid(name, v, site)),
            },
            Some((site, v)) => Err(self.invalid(name, v, site)),
        }
    }
}

/// The output size of a sliding window along one axis:
/// `(size + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1`.
pub(crate) fn window_output(
    layer: &str,
    input: &Operand<'_>,
    axis: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
) -> Result<Dim, ShapeError> {
    let size = &input.shape.0[axis];
    let span = dilation * (kernel - 1) + 1;
    let padded = size.add(&Dim::Lit(2 * pad));
    match padded.sub(&Dim::Lit(span)) {
        Some(rest) => Ok(rest.floor_div(stride).add(&Dim::Lit(1))),
        None => Err(ShapeError::new(format!(
            "`{layer}` window of {span} does not fit axis {axis} of {} (shape {}, size {} with padding {pad})",
            input.label, input.shape, size
        ))),
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
        ArgDef::optional("stride", "a positive integer or a pair of them", "1"),
        ArgDef::optional(
            "padding",
            "`same`, `valid`, a non-negative integer or a pair of them",
            "valid",
        ),
        ArgDef::optional("dilation", "a positive integer or a pair of them", "1"),
        ArgDef::optional("bias", "`true` or `false`", "true"),
    ];
    const SUMMARY: &'static str = "2-D convolution, NHWC: [N, H, W, C] -> [N, H', W', filters]";

    fn build(args: &Args<'_>) -> Result<Self, ArgError> {
        let conv = Conv2d {
            filters: args.positive("filters", 0)?,
            kernel: args.pair("kernel", None)?.unwrap_or([1, 1]),
            stride: args.pair("stride", Some([1, 1]))?.unwrap_or([1, 1]),
            padding: Padding::read(args, "padding")?,
            dilation: args.pair("dilation", Some([1, 1]))?.unwrap_or([1, 1]),
            bias: args.bool("bias", true)?,
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

impl Padding {
    /// Reads a 1-D padding: `same`, `valid` or `N` (a pair is refused).
    pub(crate) fn read_1d(args: &Args<'_>, layer: &str, name: &str) -> Result<Padding, ArgError> {
        match args.get(name) {
            None => Ok(Padding::Valid),
            Some((_, ArgValue::Ident(w))) if w == "same" => Ok(Padding::Same),
            Some((_, ArgValue::Ident(w))) if w == "valid" => Ok(Padding::Valid),
            Some((_, ArgValue::Int(n))) if *n >= 0 => Ok(Padding::Explicit([*n as usize; 2])),
            Some((_, v)) => Err(args.error(
                name,
                format!(
                    "argument `{name}` of `{layer}` must be `same`, `valid` or a non-negative integer, found `{v}`"
                ),
            )),
        }
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
    /// Padding (an `Explicit` padding holds the same amount twice).
    pub padding: Padding,
    /// Dilation.
    pub dilation: usize,
    /// Whether there is a bias.
    pub bias: bool,
}

impl Conv1d {
    /// The zeros added before and after the sequence.
    pub fn pad(&self) -> usize {
        self.padding.amounts([self.kernel, 1], [self.dilation, 1])[0]
    }
}

impl LayerRule for Conv1d {
    const NAME: &'static str = "Conv1d";
    const ARGS: &'static [ArgDef] = &[
        ArgDef::required("filters", "a positive integer"),
        ArgDef::required("kernel", "a positive integer"),
        ArgDef::optional("stride", "a positive integer", "1"),
        ArgDef::optional(
            "padding",
            "`same`, `valid` or a non-negative integer",
            "valid",
        ),
        ArgDef::optional("dilation", "a positive integer", "1"),
        ArgDef::optional("bias", "`true` or `false`", "true"),
    ];
    const SUMMARY: &'static str = "1-D convolution, NLC: [N, L, C] -> [N, L', filters]";

    fn build(args: &Args<'_>) -> Result<Self, ArgError> {
        let conv = Conv1d {
            filters: args.positive("filters", 0)?,
            kernel: args.positive("kernel", 1)?,
            stride: args.positive("stride", 1)?,
            padding: Padding::read_1d(args, Self::NAME, "padding")?,
            dilation: args.positive("dilation", 1)?,
            bias: args.bool("bias", true)?,
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

use super::conv::window_output;
use super::{LayerRule, Operand, ShapeError, expect_rank};
use crate::args::{ArgDef, ArgError, Args};
use crate::shape::Shape;

/// Arguments shared by the 2-D pools.
#[derive(Clone, Debug, PartialEq)]
pub struct Pool2d {
    /// Window height and width.
    pub kernel: [usize; 2],
    /// Stride (defaults to the kernel).
    pub stride: [usize; 2],
    /// Padding per side.
    pub padding: [usize; 2],
}

const POOL_ARGS: &[ArgDef] = &[
    ArgDef::required("kernel", "a positive integer or a pair of them"),
    ArgDef::optional("stride", "a positive integer or a pair of them", "kernel"),
    ArgDef::optional("padding", "a non-negative integer or a pair of them", "0"),
];

impl Pool2d {
    fn build(args: &Args<'_>) -> Result<Pool2d, ArgError> {
        let kernel = args.pair("kernel", None)?.unwrap_or([1, 1]);
        let stride = args.pair("stride", Some(kernel))?.unwrap_or(kernel);
        let padding = args.pair_or_zero("padding")?;
        if padding[0] * 2 > kernel[0] || padding[1] * 2 > kernel[1] {
            return Err(args.error("padding", "pool padding must be at most half the kernel"));
        }
        Ok(Pool2d {
            kernel,
            stride,
            padding,
        })
    }

    fn infer(&self, layer: &str, x: &Operand<'_>) -> Result<Shape, ShapeError> {
        expect_rank(layer, x, 4, "[N, H, W, C]")?;
        let h = window_output(
            layer,
            x,
            1,
            self.kernel[0],
            self.stride[0],
            self.padding[0],
            1,
        )?;
        let w = window_output(
            layer,
            x,
            2,
            self.kernel[1],
            self.stride[1],
            self.padding[1],
            1,
        )?;
        Ok(Shape(vec![
            x.shape.0[0].clone(),
            h,
            w,
            x.shape.0[3].clone(),
        ]))
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

            fn build(args: &Args<'_>) -> Result<Self, ArgError> {
                Pool2d::build(args).map($name)
            }

            fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
                self.0.infer(Self::NAME, &inputs[0])
            }
        }
    };
}

pool!(
    MaxPool2d,
    "2-D max pooling, NHWC: [N, H, W, C] -> [N, H', W', C]"
);
pool!(
    AvgPool2d,
    "2-D average pooling, NHWC: [N, H, W, C] -> [N, H', W', C]"
);

/// Arguments shared by the 1-D pools.
#[derive(Clone, Debug, PartialEq)]
pub struct Pool1d {
    /// Window length.
    pub kernel: usize,
    /// Stride (defaults to the kernel).
    pub stride: usize,
    /// Padding per side.
    pub padding: usize,
}

const POOL1D_ARGS: &[ArgDef] = &[
    ArgDef::required("kernel", "a positive integer"),
    ArgDef::optional("stride", "a positive integer", "kernel"),
    ArgDef::optional("padding", "a non-negative integer", "0"),
];

impl Pool1d {
    fn build(args: &Args<'_>) -> Result<Pool1d, ArgError> {
        let kernel = args.positive("kernel", 1)?;
        let stride = args.positive("stride", kernel)?;
        let padding = args.count("padding", 0)?;
        if padding * 2 > kernel {
            return Err(args.error("padding", "pool padding must be at most half the kernel"));
        }
        Ok(Pool1d {
            kernel,
            stride,
            padding,
        })
    }

    fn infer(&self, layer: &str, x: &Operand<'_>) -> Result<Shape, ShapeError> {
        expect_rank(layer, x, 3, "[N, L, C]")?;
        let l = window_output(layer, x, 1, self.kernel, self.stride, self.padding, 1)?;
        Ok(Shape(vec![x.shape.0[0].clone(), l, x.shape.0[2].clone()]))
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

            fn build(args: &Args<'_>) -> Result<Self, ArgError> {
                Pool1d::build(args).map($name)
            }

            fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
                self.0.infer(Self::NAME, &inputs[0])
            }
        }
    };
}

pool1d!(MaxPool1d, "1-D max pooling, NLC: [N, L, C] -> [N, L', C]");
pool1d!(
    AvgPool1d,
    "1-D average pooling, NLC: [N, L, C] -> [N, L', C]"
);

/// This file's layers, in the catalogue's order (see `for_each_layer!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __pool_layers {
    ([$($callback:tt)*] [$($layer:tt)*] [$($rest:ident)*]) => {
        $crate::__gather_layers! { [$($callback)*] [$($layer)* MaxPool1d, AvgPool1d, MaxPool2d, AvgPool2d,] [$($rest)*] }
    };
}

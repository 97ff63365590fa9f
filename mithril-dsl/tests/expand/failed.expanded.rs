//! A model with one shape error: its items carry every field and trait
//! impl (with placeholder consts), and the error is the only one.
#[derive(
    ::std::clone::Clone,
    ::std::marker::Copy,
    ::std::fmt::Debug,
    ::std::default::Default
)]
pub struct Net;
impl ::mithril::__private::Nestable for Net {
    fn nested() -> ::mithril::__private::Nested {
        ::mithril::__private::Nested::Failed
    }
}
impl ::mithril::Model for Net {
    const NAME: &'static str = "Net";
    type Params = NetParams;
    type Inputs = NetInputs;
    type Outputs = NetOutputs;
    fn graph() -> &'static ::mithril::__private::Arc<::mithril::__private::Graph> {
        ::std::unreachable!("model `Net` did not compile")
    }
}
impl Net {
    /// Number of scalar parameters.
    pub const PARAMETER_COUNT: usize = 0usize;
    /// Declared inputs and their shapes.
    pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[];
    /// Outputs and their inferred shapes.
    pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[];
    /// A table of every layer: name, kind, output shape, parameter count, and totals.
    pub fn summary() -> ::std::string::String {
        <Self as ::mithril::Model>::graph().summary()
    }
    /// Fresh parameters with mlx.nn's default initialisation, from the backend's seed and dtype.
    pub fn init(
        backend: &::mithril::MlxBackend,
    ) -> ::std::result::Result<NetParams, ::mithril::Error> {
        ::mithril::init::<Self>(backend)
    }
    /// Runs the model eagerly. Inputs are checked against the declared shapes first.
    pub fn forward(
        params: &NetParams,
        inputs: &NetInputs,
    ) -> ::std::result::Result<NetOutputs, ::mithril::Error> {
        ::mithril::forward::<Self>(params, inputs)
    }
}
/// Parameters of [`Net`]: a field per layer that has any (0 scalars in all). Gradients have the same type.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct NetParams {
    /// `linear_0`.
    pub linear_0: NetLinear0Params,
    /// `head`.
    pub head: NetHeadParams,
}
impl ::mithril::Params for NetParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        ::mithril::Params::visit(&self.linear_0, f);
        ::mithril::Params::visit(&self.head, f);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        ::mithril::Params::visit_mut(&mut self.linear_0, f);
        ::mithril::Params::visit_mut(&mut self.head, f);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.field::<NetLinear0Params>("linear_0")?;
        let __p1 = arrays.field::<NetHeadParams>("head")?;
        ::std::option::Option::Some(Self { linear_0: __p0, head: __p1 })
    }
}
/// Parameters of layer `linear_0` of [`Net`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct NetLinear0Params {
    ///
    pub weight: ::mithril::__private::Array,
    ///
    pub bias: ::mithril::__private::Array,
}
impl ::mithril::Params for NetLinear0Params {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        f(&self.weight);
        f(&self.bias);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        f(&mut self.weight);
        f(&mut self.bias);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.take()?;
        let __p1 = arrays.take()?;
        ::std::option::Option::Some(Self { weight: __p0, bias: __p1 })
    }
}
/// Parameters of layer `head` of [`Net`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct NetHeadParams {
    ///
    pub weight: ::mithril::__private::Array,
    ///
    pub bias: ::mithril::__private::Array,
}
impl ::mithril::Params for NetHeadParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        f(&self.weight);
        f(&self.bias);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        f(&mut self.weight);
        f(&mut self.bias);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.take()?;
        let __p1 = arrays.take()?;
        ::std::option::Option::Some(Self { weight: __p0, bias: __p1 })
    }
}
/// Inputs of [`Net`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct NetInputs {
    ///
    pub x: ::mithril::__private::Array,
    ///
    pub y: ::mithril::__private::Array,
}
impl ::mithril::Values for NetInputs {
    const NAMES: &'static [&'static str] = &["x", "y"];
    fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
        ::std::vec![& self.x, & self.y]
    }
    fn from_arrays(
        arrays: ::std::vec::Vec<::mithril::__private::Array>,
    ) -> ::std::option::Option<Self> {
        #[allow(unused_mut, unused_variables)]
        let mut arrays = arrays.into_iter();
        let __v0 = arrays.next()?;
        let __v1 = arrays.next()?;
        ::std::option::Option::Some(Self { x: __v0, y: __v1 })
    }
}
/// Outputs of [`Net`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct NetOutputs {
    ///
    pub out: ::mithril::__private::Array,
}
impl ::mithril::Values for NetOutputs {
    const NAMES: &'static [&'static str] = &["out"];
    fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
        ::std::vec![& self.out]
    }
    fn from_arrays(
        arrays: ::std::vec::Vec<::mithril::__private::Array>,
    ) -> ::std::option::Option<Self> {
        #[allow(unused_mut, unused_variables)]
        let mut arrays = arrays.into_iter();
        let __v0 = arrays.next()?;
        ::std::option::Option::Some(Self { out: __v0 })
    }
}
/// The signature of model `Net`, for `model!` blocks that use it (hidden).
#[doc(hidden)]
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! __mithril_failed_Net_df122987cf5c4ed0 {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" failed } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
pub use __mithril_failed_Net_df122987cf5c4ed0 as Net;
::core::compile_error! {
    "`Add` needs equal (or broadcastable) shapes: `h` is [B, 16], `y` is [B, 4] (axis 1: 16 vs 4)"
}

//! A block that uses models of other blocks: the first step asks their
//! signature macros (in a chain ending in `::mithril::model!`), and the
//! block's models have fallback items meanwhile.
#[doc(hidden)]
#[allow(dead_code, missing_docs, non_snake_case, unreachable_code, clippy::all)]
mod __mithril_pending_Net_bf5d524459be6151 {
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
    }
    impl ::mithril::Params for NetParams {
        fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
            ::mithril::Params::visit(&self.linear_0, f);
        }
        fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
            ::mithril::Params::visit_mut(&mut self.linear_0, f);
        }
        fn read(
            arrays: &mut ::mithril::__private::ArrayReader<'_>,
        ) -> ::std::option::Option<Self> {
            let __p0 = arrays.field::<NetLinear0Params>("linear_0")?;
            ::std::option::Option::Some(Self { linear_0: __p0 })
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
    /// Inputs of [`Net`].
    #[derive(::std::clone::Clone, ::std::fmt::Debug)]
    pub struct NetInputs {
        ///
        pub x: ::mithril::__private::Array,
    }
    impl ::mithril::Values for NetInputs {
        const NAMES: &'static [&'static str] = &["x"];
        fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
            ::std::vec![& self.x]
        }
        fn from_arrays(
            arrays: ::std::vec::Vec<::mithril::__private::Array>,
        ) -> ::std::option::Option<Self> {
            #[allow(unused_mut, unused_variables)]
            let mut arrays = arrays.into_iter();
            let __v0 = arrays.next()?;
            ::std::option::Option::Some(Self { x: __v0 })
        }
    }
    /// Outputs of [`Net`].
    #[derive(::std::clone::Clone, ::std::fmt::Debug)]
    pub struct NetOutputs {
        ///
        pub y: ::mithril::__private::Array,
    }
    impl ::mithril::Values for NetOutputs {
        const NAMES: &'static [&'static str] = &["y"];
        fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
            ::std::vec![& self.y]
        }
        fn from_arrays(
            arrays: ::std::vec::Vec<::mithril::__private::Array>,
        ) -> ::std::option::Option<Self> {
            #[allow(unused_mut, unused_variables)]
            let mut arrays = arrays.into_iter();
            let __v0 = arrays.next()?;
            ::std::option::Option::Some(Self { y: __v0 })
        }
    }
}
#[allow(unused_imports)]
pub use __mithril_pending_Net_bf5d524459be6151::*;
zoo::blocks::Mlp! {
    { Encoder } { ::mithril::model } @ __mithril_continue["zoo::blocks::Mlp" "Encoder"] {
    pub Net { input x : [B, 16]; x -> zoo::blocks::Mlp -> Encoder * 2 -> Linear(4) => y;
    output y; } }
}

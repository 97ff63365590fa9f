//! Numbers as operands (at the head of a flow and after a pipeline stage's
//! previous value), a `buffer` (a parameter field that is an array, under
//! its own path) and a `static` input (a spec input that is not
//! differentiable). A model that fails still has its buffer's field.
/// An RBF network with fixed centres.
#[derive(
    ::std::clone::Clone,
    ::std::marker::Copy,
    ::std::fmt::Debug,
    ::std::default::Default
)]
pub struct RbfNetwork;
impl ::mithril::__private::Nestable for RbfNetwork {
    fn nested() -> ::mithril::__private::Nested {
        ::mithril::__private::Nested::Model(
            ::mithril::__private::Arc::clone(<Self as ::mithril::Model>::graph()),
        )
    }
}
impl ::mithril::Model for RbfNetwork {
    const NAME: &'static str = "RbfNetwork";
    type Params = RbfNetworkParams;
    type Inputs = RbfNetworkInputs;
    type Outputs = RbfNetworkOutputs;
    fn graph() -> &'static ::mithril::__private::Arc<::mithril::__private::Graph> {
        static SPEC: ::mithril::__private::ModelSpec = ::mithril::__private::ModelSpec {
            name: ::std::borrow::Cow::Borrowed("RbfNetwork"),
            params: ::std::borrow::Cow::Borrowed(&[]),
            inputs: ::std::borrow::Cow::Borrowed(
                &[
                    ::mithril::__private::InputSpec {
                        name: ::std::borrow::Cow::Borrowed("x"),
                        dims: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::DimSpec::Sym(
                                    ::std::borrow::Cow::Borrowed("N"),
                                ),
                                ::mithril::__private::DimSpec::Lit(2usize),
                            ],
                        ),
                        differentiable: true,
                    },
                    ::mithril::__private::InputSpec {
                        name: ::std::borrow::Cow::Borrowed("gamma"),
                        dims: ::std::borrow::Cow::Borrowed(
                            &[::mithril::__private::DimSpec::Lit(1usize)],
                        ),
                        differentiable: false,
                    },
                ],
            ),
            nodes: ::std::borrow::Cow::Borrowed(
                &[
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("centers"),
                        ),
                        layer: ::std::borrow::Cow::Borrowed("Buffer"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::Some(
                                        ::std::borrow::Cow::Borrowed("shape"),
                                    ),
                                    value: ::mithril::__private::ArgValue::List(
                                        ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::ArgValue::Int(4i64),
                                                ::mithril::__private::ArgValue::Int(2i64),
                                            ],
                                        ),
                                    ),
                                },
                            ],
                        ),
                        inputs: ::std::borrow::Cow::Borrowed(&[]),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("centers"),
                        ),
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("scale"),
                        ),
                        layer: ::std::borrow::Cow::Borrowed("Buffer"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::Some(
                                        ::std::borrow::Cow::Borrowed("shape"),
                                    ),
                                    value: ::mithril::__private::ArgValue::List(
                                        ::std::borrow::Cow::Borrowed(
                                            &[::mithril::__private::ArgValue::Int(1i64)],
                                        ),
                                    ),
                                },
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::Some(
                                        ::std::borrow::Cow::Borrowed("fill"),
                                    ),
                                    value: ::mithril::__private::ArgValue::Float(0.5f64),
                                },
                            ],
                        ),
                        inputs: ::std::borrow::Cow::Borrowed(&[]),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("scale"),
                        ),
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Unsqueeze"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::None,
                                    value: ::mithril::__private::ArgValue::Int(1i64),
                                },
                            ],
                        ),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("x"),
                                ),
                            ],
                        ),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("xa"),
                        ),
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Unsqueeze"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::None,
                                    value: ::mithril::__private::ArgValue::Int(0i64),
                                },
                            ],
                        ),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("centers"),
                                ),
                            ],
                        ),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("cb"),
                        ),
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Subtract"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("xa"),
                                ),
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("cb"),
                                ),
                            ],
                        ),
                        output: ::std::option::Option::None,
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Square"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[::mithril::__private::ValueRef::Node(4usize)],
                        ),
                        output: ::std::option::Option::None,
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Sum"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::Some(
                                        ::std::borrow::Cow::Borrowed("axes"),
                                    ),
                                    value: ::mithril::__private::ArgValue::Int(2i64),
                                },
                            ],
                        ),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[::mithril::__private::ValueRef::Node(5usize)],
                        ),
                        output: ::std::option::Option::None,
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Multiply"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Node(6usize),
                                ::mithril::__private::ValueRef::Literal(
                                    ::mithril::__private::Scalar::new(-1f64),
                                ),
                            ],
                        ),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("d2"),
                        ),
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Multiply"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("d2"),
                                ),
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("gamma"),
                                ),
                            ],
                        ),
                        output: ::std::option::Option::None,
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Exp"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[::mithril::__private::ValueRef::Node(8usize)],
                        ),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("phi"),
                        ),
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Multiply"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("phi"),
                                ),
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("scale"),
                                ),
                            ],
                        ),
                        output: ::std::option::Option::None,
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("head"),
                        ),
                        layer: ::std::borrow::Cow::Borrowed("Linear"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::None,
                                    value: ::mithril::__private::ArgValue::Int(1i64),
                                },
                            ],
                        ),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[::mithril::__private::ValueRef::Node(10usize)],
                        ),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("y"),
                        ),
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                ],
            ),
            outputs: ::std::borrow::Cow::Borrowed(&[::std::borrow::Cow::Borrowed("y")]),
            shares: ::std::borrow::Cow::Borrowed(&[]),
            loops: ::std::borrow::Cow::Borrowed(&[]),
        };
        static GRAPH: ::mithril::__private::OnceLock<
            ::mithril::__private::Arc<::mithril::__private::Graph>,
        > = ::mithril::__private::OnceLock::new();
        GRAPH.get_or_init(|| ::mithril::__private::build_graph(&SPEC, &[], &[]))
    }
}
impl RbfNetwork {
    /// Number of scalar parameters.
    pub const PARAMETER_COUNT: usize = 14usize;
    /// Declared inputs and their shapes.
    pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("x", "[N, 2]"),
        ("gamma", "[1]"),
    ];
    /// Outputs and their inferred shapes.
    pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("y", "[N, 1]"),
    ];
    /// A table of every layer: name, kind, output shape, parameter count, and totals.
    pub fn summary() -> ::std::string::String {
        <Self as ::mithril::Model>::graph().summary()
    }
    /// Fresh parameters with mlx.nn's default initialisation, from the backend's seed and dtype.
    pub fn init(
        backend: &::mithril::MlxBackend,
    ) -> ::std::result::Result<RbfNetworkParams, ::mithril::Error> {
        ::mithril::init::<Self>(backend)
    }
    /// Runs the model eagerly. Inputs are checked against the declared shapes first.
    pub fn forward(
        params: &RbfNetworkParams,
        inputs: &RbfNetworkInputs,
    ) -> ::std::result::Result<RbfNetworkOutputs, ::mithril::Error> {
        ::mithril::forward::<Self>(params, inputs)
    }
}
/// Parameters of [`RbfNetwork`]: a field per layer that has any (14 scalars in all). Gradients have the same type.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct RbfNetworkParams {
    /// `centers`: a buffer of shape `[4, 2]`, saved with the parameters, never trained.
    pub centers: ::mithril::__private::Array,
    /// `scale`: a buffer of shape `[1]`, saved with the parameters, never trained.
    pub scale: ::mithril::__private::Array,
    /// `head`: `Linear(1)`.
    pub head: RbfNetworkHeadParams,
}
impl ::mithril::Params for RbfNetworkParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        f(&self.centers);
        f(&self.scale);
        ::mithril::Params::visit(&self.head, f);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        f(&mut self.centers);
        f(&mut self.scale);
        ::mithril::Params::visit_mut(&mut self.head, f);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.take()?;
        let __p1 = arrays.take()?;
        let __p2 = arrays.field::<RbfNetworkHeadParams>("head")?;
        ::std::option::Option::Some(Self {
            centers: __p0,
            scale: __p1,
            head: __p2,
        })
    }
}
/// Parameters of layer `head` (`Linear(1)`) of [`RbfNetwork`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct RbfNetworkHeadParams {
    /// Shape `[1, 4]` (mlx.nn layout of `Linear`).
    pub weight: ::mithril::__private::Array,
    /// Shape `[1]` (mlx.nn layout of `Linear`).
    pub bias: ::mithril::__private::Array,
}
impl ::mithril::Params for RbfNetworkHeadParams {
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
/// Inputs of [`RbfNetwork`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct RbfNetworkInputs {
    /// Shape `[N, 2]`.
    pub x: ::mithril::__private::Array,
    /// Shape `[1]`; static: no gradient flows into it.
    pub gamma: ::mithril::__private::Array,
}
impl ::mithril::Values for RbfNetworkInputs {
    const NAMES: &'static [&'static str] = &["x", "gamma"];
    fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
        ::std::vec![& self.x, & self.gamma]
    }
    fn from_arrays(
        arrays: ::std::vec::Vec<::mithril::__private::Array>,
    ) -> ::std::option::Option<Self> {
        #[allow(unused_mut, unused_variables)]
        let mut arrays = arrays.into_iter();
        let __v0 = arrays.next()?;
        let __v1 = arrays.next()?;
        ::std::option::Option::Some(Self { x: __v0, gamma: __v1 })
    }
}
/// Outputs of [`RbfNetwork`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct RbfNetworkOutputs {
    /// Shape `[N, 1]`.
    pub y: ::mithril::__private::Array,
}
impl ::mithril::Values for RbfNetworkOutputs {
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
/// The signature of model `RbfNetwork`, for `model!` blocks that use it (hidden).
#[doc(hidden)]
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! __mithril_model_RbfNetwork_0c667eb503f10d17 {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" ok RbfNetwork() [] {
        input x : [N, 2]; static gamma : [1]; buffer centers : [4, 2], scale : [1] = 0.5;
        x -> Unsqueeze(1) => xa; centers -> Unsqueeze(0) => cb; Subtract(xa, cb) ->
        Square -> Sum(axes = 2) -> Multiply(- 1) => d2; Multiply(d2, gamma) -> Exp =>
        phi; Multiply(phi, scale) -> head : Linear(1) => y; output y; } } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
pub use __mithril_model_RbfNetwork_0c667eb503f10d17 as RbfNetwork;
/// Fails (a buffer of the wrong width), yet expands with its fields.
#[derive(
    ::std::clone::Clone,
    ::std::marker::Copy,
    ::std::fmt::Debug,
    ::std::default::Default
)]
pub struct Broken;
impl ::mithril::__private::Nestable for Broken {
    fn nested() -> ::mithril::__private::Nested {
        ::mithril::__private::Nested::Failed
    }
}
impl ::mithril::Model for Broken {
    const NAME: &'static str = "Broken";
    type Params = BrokenParams;
    type Inputs = BrokenInputs;
    type Outputs = BrokenOutputs;
    fn graph() -> &'static ::mithril::__private::Arc<::mithril::__private::Graph> {
        ::std::unreachable!("model `Broken` did not compile")
    }
}
impl Broken {
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
    ) -> ::std::result::Result<BrokenParams, ::mithril::Error> {
        ::mithril::init::<Self>(backend)
    }
    /// Runs the model eagerly. Inputs are checked against the declared shapes first.
    pub fn forward(
        params: &BrokenParams,
        inputs: &BrokenInputs,
    ) -> ::std::result::Result<BrokenOutputs, ::mithril::Error> {
        ::mithril::forward::<Self>(params, inputs)
    }
}
/// Parameters of [`Broken`]: a field per layer that has any (0 scalars in all). Gradients have the same type.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct BrokenParams {
    /// `offset`.
    pub offset: ::mithril::__private::Array,
}
impl ::mithril::Params for BrokenParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        f(&self.offset);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        f(&mut self.offset);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.take()?;
        ::std::option::Option::Some(Self { offset: __p0 })
    }
}
/// Inputs of [`Broken`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct BrokenInputs {
    ///
    pub x: ::mithril::__private::Array,
}
impl ::mithril::Values for BrokenInputs {
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
/// Outputs of [`Broken`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct BrokenOutputs {
    ///
    pub y: ::mithril::__private::Array,
}
impl ::mithril::Values for BrokenOutputs {
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
/// The signature of model `Broken`, for `model!` blocks that use it (hidden).
#[doc(hidden)]
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! __mithril_failed_Broken_aeb4da45949fbd24 {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" failed } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
pub use __mithril_failed_Broken_aeb4da45949fbd24 as Broken;
::core::compile_error! {
    "`Subtract` needs equal (or broadcastable) shapes: `x` is [B, 3], `offset` is [4] (axis 1: 3 vs 4)"
}

/// A language model whose output layer reuses the token embedding's table.
#[derive(
    ::std::clone::Clone,
    ::std::marker::Copy,
    ::std::fmt::Debug,
    ::std::default::Default
)]
pub struct TiedLm;
impl ::mithril::__private::Nestable for TiedLm {
    fn nested() -> ::mithril::__private::Nested {
        ::mithril::__private::Nested::Model(
            ::mithril::__private::Arc::clone(<Self as ::mithril::Model>::graph()),
        )
    }
}
impl ::mithril::Model for TiedLm {
    const NAME: &'static str = "TiedLm";
    type Params = TiedLmParams;
    type Inputs = TiedLmInputs;
    type Outputs = TiedLmOutputs;
    fn graph() -> &'static ::mithril::__private::Arc<::mithril::__private::Graph> {
        static SPEC: ::mithril::__private::ModelSpec = ::mithril::__private::ModelSpec {
            name: ::std::borrow::Cow::Borrowed("TiedLm"),
            params: ::std::borrow::Cow::Borrowed(&[]),
            inputs: ::std::borrow::Cow::Borrowed(
                &[
                    ::mithril::__private::InputSpec {
                        name: ::std::borrow::Cow::Borrowed("tokens"),
                        dims: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::DimSpec::Sym(
                                    ::std::borrow::Cow::Borrowed("B"),
                                ),
                                ::mithril::__private::DimSpec::Sym(
                                    ::std::borrow::Cow::Borrowed("T"),
                                ),
                            ],
                        ),
                        differentiable: true,
                    },
                ],
            ),
            nodes: ::std::borrow::Cow::Borrowed(
                &[
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("embed"),
                        ),
                        layer: ::std::borrow::Cow::Borrowed("Embedding"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::None,
                                    value: ::mithril::__private::ArgValue::Int(100i64),
                                },
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::None,
                                    value: ::mithril::__private::ArgValue::Int(16i64),
                                },
                            ],
                        ),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("tokens"),
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
                        layer: ::std::borrow::Cow::Borrowed("Relu"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[::mithril::__private::ValueRef::Node(0usize)],
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
                                    value: ::mithril::__private::ArgValue::Int(100i64),
                                },
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::Some(
                                        ::std::borrow::Cow::Borrowed("bias"),
                                    ),
                                    value: ::mithril::__private::ArgValue::Bool(false),
                                },
                            ],
                        ),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[::mithril::__private::ValueRef::Node(1usize)],
                        ),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("logits"),
                        ),
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                ],
            ),
            outputs: ::std::borrow::Cow::Borrowed(
                &[::std::borrow::Cow::Borrowed("logits")],
            ),
            shares: ::std::borrow::Cow::Borrowed(
                &[
                    ::mithril::__private::ShareSpec {
                        target: ::std::borrow::Cow::Borrowed("head.weight"),
                        source: ::std::borrow::Cow::Borrowed("embed.weight"),
                    },
                ],
            ),
            loops: ::std::borrow::Cow::Borrowed(&[]),
        };
        static GRAPH: ::mithril::__private::OnceLock<
            ::mithril::__private::Arc<::mithril::__private::Graph>,
        > = ::mithril::__private::OnceLock::new();
        GRAPH.get_or_init(|| ::mithril::__private::build_graph(&SPEC, &[], &[]))
    }
}
impl TiedLm {
    /// Number of scalar parameters.
    pub const PARAMETER_COUNT: usize = 1600usize;
    /// Declared inputs and their shapes.
    pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("tokens", "[B, T]"),
    ];
    /// Outputs and their inferred shapes.
    pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("logits", "[B, T, 100]"),
    ];
    /// A table of every layer: name, kind, output shape, parameter count, and totals.
    pub fn summary() -> ::std::string::String {
        <Self as ::mithril::Model>::graph().summary()
    }
    /// Fresh parameters with mlx.nn's default initialisation, from the backend's seed and dtype.
    pub fn init(
        backend: &::mithril::MlxBackend,
    ) -> ::std::result::Result<TiedLmParams, ::mithril::Error> {
        ::mithril::init::<Self>(backend)
    }
    /// Runs the model eagerly. Inputs are checked against the declared shapes first.
    pub fn forward(
        params: &TiedLmParams,
        inputs: &TiedLmInputs,
    ) -> ::std::result::Result<TiedLmOutputs, ::mithril::Error> {
        ::mithril::forward::<Self>(params, inputs)
    }
}
/// Parameters of [`TiedLm`]: a field per layer that has any (1600 scalars in all). Gradients have the same type.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct TiedLmParams {
    /// `embed`: `Embedding(100, 16)`.
    pub embed: TiedLmEmbedParams,
}
impl ::mithril::Params for TiedLmParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        ::mithril::Params::visit(&self.embed, f);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        ::mithril::Params::visit_mut(&mut self.embed, f);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.field::<TiedLmEmbedParams>("embed")?;
        ::std::option::Option::Some(Self { embed: __p0 })
    }
}
/// Parameters of layer `embed` (`Embedding(100, 16)`) of [`TiedLm`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct TiedLmEmbedParams {
    /// Shape `[100, 16]` (mlx.nn layout of `Embedding`).
    pub weight: ::mithril::__private::Array,
}
impl ::mithril::Params for TiedLmEmbedParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        f(&self.weight);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        f(&mut self.weight);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.take()?;
        ::std::option::Option::Some(Self { weight: __p0 })
    }
}
/// Inputs of [`TiedLm`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct TiedLmInputs {
    /// Shape `[B, T]`.
    pub tokens: ::mithril::__private::Array,
}
impl ::mithril::Values for TiedLmInputs {
    const NAMES: &'static [&'static str] = &["tokens"];
    fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
        ::std::vec![& self.tokens]
    }
    fn from_arrays(
        arrays: ::std::vec::Vec<::mithril::__private::Array>,
    ) -> ::std::option::Option<Self> {
        #[allow(unused_mut, unused_variables)]
        let mut arrays = arrays.into_iter();
        let __v0 = arrays.next()?;
        ::std::option::Option::Some(Self { tokens: __v0 })
    }
}
/// Outputs of [`TiedLm`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct TiedLmOutputs {
    /// Shape `[B, T, 100]`.
    pub logits: ::mithril::__private::Array,
}
impl ::mithril::Values for TiedLmOutputs {
    const NAMES: &'static [&'static str] = &["logits"];
    fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
        ::std::vec![& self.logits]
    }
    fn from_arrays(
        arrays: ::std::vec::Vec<::mithril::__private::Array>,
    ) -> ::std::option::Option<Self> {
        #[allow(unused_mut, unused_variables)]
        let mut arrays = arrays.into_iter();
        let __v0 = arrays.next()?;
        ::std::option::Option::Some(Self { logits: __v0 })
    }
}
/// The signature of model `TiedLm`, for `model!` blocks that use it (hidden).
#[doc(hidden)]
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! __mithril_model_TiedLm_cdd6e3039fcc1a16 {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" ok TiedLm() [] { input
        tokens : [B, T]; tokens -> embed : Embedding(100, 16) -> Relu -> head :
        Linear(100, bias = false) => logits; share head.weight = embed.weight; output
        logits; } } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
pub use __mithril_model_TiedLm_cdd6e3039fcc1a16 as TiedLm;

//! The guide's classifier: layers with and without parameters, two outputs.
/// The classifier of Mithril's MLX backend guide.
#[derive(
    ::std::clone::Clone,
    ::std::marker::Copy,
    ::std::fmt::Debug,
    ::std::default::Default
)]
pub struct Classifier;
impl ::mithril::__private::Nestable for Classifier {
    fn nested() -> ::mithril::__private::Nested {
        ::mithril::__private::Nested::Model(
            ::mithril::__private::Arc::clone(<Self as ::mithril::Model>::graph()),
        )
    }
}
impl ::mithril::Model for Classifier {
    const NAME: &'static str = "Classifier";
    type Params = ClassifierParams;
    type Inputs = ClassifierInputs;
    type Outputs = ClassifierOutputs;
    fn graph() -> &'static ::mithril::__private::Arc<::mithril::__private::Graph> {
        static SPEC: ::mithril::__private::ModelSpec = ::mithril::__private::ModelSpec {
            name: ::std::borrow::Cow::Borrowed("Classifier"),
            params: ::std::borrow::Cow::Borrowed(&[]),
            inputs: ::std::borrow::Cow::Borrowed(
                &[
                    ::mithril::__private::InputSpec {
                        name: ::std::borrow::Cow::Borrowed("image"),
                        dims: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::DimSpec::Sym(
                                    ::std::borrow::Cow::Borrowed("B"),
                                ),
                                ::mithril::__private::DimSpec::Lit(784usize),
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
                            ::std::borrow::Cow::Borrowed("fc1"),
                        ),
                        layer: ::std::borrow::Cow::Borrowed("Linear"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::None,
                                    value: ::mithril::__private::ArgValue::Int(128i64),
                                },
                            ],
                        ),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("image"),
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
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Linear"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::None,
                                    value: ::mithril::__private::ArgValue::Int(10i64),
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
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Softmax"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("logits"),
                                ),
                            ],
                        ),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("probs"),
                        ),
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                ],
            ),
            outputs: ::std::borrow::Cow::Borrowed(
                &[
                    ::std::borrow::Cow::Borrowed("logits"),
                    ::std::borrow::Cow::Borrowed("probs"),
                ],
            ),
            shares: ::std::borrow::Cow::Borrowed(&[]),
            loops: ::std::borrow::Cow::Borrowed(&[]),
        };
        static GRAPH: ::mithril::__private::OnceLock<
            ::mithril::__private::Arc<::mithril::__private::Graph>,
        > = ::mithril::__private::OnceLock::new();
        GRAPH.get_or_init(|| ::mithril::__private::build_graph(&SPEC, &[], &[]))
    }
}
impl Classifier {
    /// Number of scalar parameters.
    pub const PARAMETER_COUNT: usize = 101770usize;
    /// Declared inputs and their shapes.
    pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("image", "[B, 784]"),
    ];
    /// Outputs and their inferred shapes.
    pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("logits", "[B, 10]"),
        ("probs", "[B, 10]"),
    ];
    /// A table of every layer: name, kind, output shape, parameter count, and totals.
    pub fn summary() -> ::std::string::String {
        <Self as ::mithril::Model>::graph().summary()
    }
    /// Fresh parameters with mlx.nn's default initialisation, from the backend's seed and dtype.
    pub fn init(
        backend: &::mithril::MlxBackend,
    ) -> ::std::result::Result<ClassifierParams, ::mithril::Error> {
        ::mithril::init::<Self>(backend)
    }
    /// Runs the model eagerly. Inputs are checked against the declared shapes first.
    pub fn forward(
        params: &ClassifierParams,
        inputs: &ClassifierInputs,
    ) -> ::std::result::Result<ClassifierOutputs, ::mithril::Error> {
        ::mithril::forward::<Self>(params, inputs)
    }
}
/// Parameters of [`Classifier`]: a field per layer that has any (101770 scalars in all). Gradients have the same type.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct ClassifierParams {
    /// `fc1`: `Linear(128)`.
    pub fc1: ClassifierFc1Params,
    /// `linear_0`: `Linear(10)`.
    pub linear_0: ClassifierLinear0Params,
}
impl ::mithril::Params for ClassifierParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        ::mithril::Params::visit(&self.fc1, f);
        ::mithril::Params::visit(&self.linear_0, f);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        ::mithril::Params::visit_mut(&mut self.fc1, f);
        ::mithril::Params::visit_mut(&mut self.linear_0, f);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.field::<ClassifierFc1Params>("fc1")?;
        let __p1 = arrays.field::<ClassifierLinear0Params>("linear_0")?;
        ::std::option::Option::Some(Self { fc1: __p0, linear_0: __p1 })
    }
}
/// Parameters of layer `fc1` (`Linear(128)`) of [`Classifier`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct ClassifierFc1Params {
    /// Shape `[128, 784]` (mlx.nn layout of `Linear`).
    pub weight: ::mithril::__private::Array,
    /// Shape `[128]` (mlx.nn layout of `Linear`).
    pub bias: ::mithril::__private::Array,
}
impl ::mithril::Params for ClassifierFc1Params {
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
/// Parameters of layer `linear_0` (`Linear(10)`) of [`Classifier`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct ClassifierLinear0Params {
    /// Shape `[10, 128]` (mlx.nn layout of `Linear`).
    pub weight: ::mithril::__private::Array,
    /// Shape `[10]` (mlx.nn layout of `Linear`).
    pub bias: ::mithril::__private::Array,
}
impl ::mithril::Params for ClassifierLinear0Params {
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
/// Inputs of [`Classifier`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct ClassifierInputs {
    /// Shape `[B, 784]`.
    pub image: ::mithril::__private::Array,
}
impl ::mithril::Values for ClassifierInputs {
    const NAMES: &'static [&'static str] = &["image"];
    fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
        ::std::vec![& self.image]
    }
    fn from_arrays(
        arrays: ::std::vec::Vec<::mithril::__private::Array>,
    ) -> ::std::option::Option<Self> {
        #[allow(unused_mut, unused_variables)]
        let mut arrays = arrays.into_iter();
        let __v0 = arrays.next()?;
        ::std::option::Option::Some(Self { image: __v0 })
    }
}
/// Outputs of [`Classifier`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct ClassifierOutputs {
    /// Shape `[B, 10]`.
    pub logits: ::mithril::__private::Array,
    /// Shape `[B, 10]`.
    pub probs: ::mithril::__private::Array,
}
impl ::mithril::Values for ClassifierOutputs {
    const NAMES: &'static [&'static str] = &["logits", "probs"];
    fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
        ::std::vec![& self.logits, & self.probs]
    }
    fn from_arrays(
        arrays: ::std::vec::Vec<::mithril::__private::Array>,
    ) -> ::std::option::Option<Self> {
        #[allow(unused_mut, unused_variables)]
        let mut arrays = arrays.into_iter();
        let __v0 = arrays.next()?;
        let __v1 = arrays.next()?;
        ::std::option::Option::Some(Self { logits: __v0, probs: __v1 })
    }
}
/// The signature of model `Classifier`, for `model!` blocks that use it (hidden).
#[doc(hidden)]
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! __mithril_model_Classifier_72cd46314994e85d {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" ok Classifier() [] {
        input image : [B, 784]; image -> fc1 : Linear(128) -> Relu -> Linear(10) =>
        logits; logits -> Softmax => probs; output logits, probs; } } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
pub use __mithril_model_Classifier_72cd46314994e85d as Classifier;

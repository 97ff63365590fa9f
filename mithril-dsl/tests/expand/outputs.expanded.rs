//! A model with several outputs bound by name (one left unbound), a loop
//! over a list and a constant of the block.
pub const WIDTH: usize = 8 as usize;
#[derive(
    ::std::clone::Clone,
    ::std::marker::Copy,
    ::std::fmt::Debug,
    ::std::default::Default
)]
struct Cell;
impl ::mithril::__private::Nestable for Cell {
    fn nested() -> ::mithril::__private::Nested {
        ::mithril::__private::Nested::Model(
            ::mithril::__private::Arc::clone(<Self as ::mithril::Model>::graph()),
        )
    }
}
impl ::mithril::Model for Cell {
    const NAME: &'static str = "Cell";
    type Params = CellParams;
    type Inputs = CellInputs;
    type Outputs = CellOutputs;
    fn graph() -> &'static ::mithril::__private::Arc<::mithril::__private::Graph> {
        static SPEC: ::mithril::__private::ModelSpec = ::mithril::__private::ModelSpec {
            name: ::std::borrow::Cow::Borrowed("Cell"),
            params: ::std::borrow::Cow::Borrowed(&[]),
            inputs: ::std::borrow::Cow::Borrowed(
                &[
                    ::mithril::__private::InputSpec {
                        name: ::std::borrow::Cow::Borrowed("x"),
                        dims: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::DimSpec::Sym(
                                    ::std::borrow::Cow::Borrowed("B"),
                                ),
                                ::mithril::__private::DimSpec::Lit(8usize),
                            ],
                        ),
                        differentiable: true,
                    },
                    ::mithril::__private::InputSpec {
                        name: ::std::borrow::Cow::Borrowed("h"),
                        dims: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::DimSpec::Sym(
                                    ::std::borrow::Cow::Borrowed("B"),
                                ),
                                ::mithril::__private::DimSpec::Lit(8usize),
                            ],
                        ),
                        differentiable: true,
                    },
                ],
            ),
            nodes: ::std::borrow::Cow::Borrowed(
                &[
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Add"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("x"),
                                ),
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("h"),
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
                            ::std::borrow::Cow::Borrowed("gate"),
                        ),
                        layer: ::std::borrow::Cow::Borrowed("Linear"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::None,
                                    value: ::mithril::__private::ArgValue::Int(8i64),
                                },
                            ],
                        ),
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
                        layer: ::std::borrow::Cow::Borrowed("Sigmoid"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[::mithril::__private::ValueRef::Node(1usize)],
                        ),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("hidden"),
                        ),
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Tanh"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("hidden"),
                                ),
                            ],
                        ),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("cell"),
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
                    ::std::borrow::Cow::Borrowed("hidden"),
                    ::std::borrow::Cow::Borrowed("cell"),
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
impl Cell {
    /// Number of scalar parameters.
    pub const PARAMETER_COUNT: usize = 72usize;
    /// Declared inputs and their shapes.
    pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("x", "[B, 8]"),
        ("h", "[B, 8]"),
    ];
    /// Outputs and their inferred shapes.
    pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("hidden", "[B, 8]"),
        ("cell", "[B, 8]"),
    ];
    /// A table of every layer: name, kind, output shape, parameter count, and totals.
    pub fn summary() -> ::std::string::String {
        <Self as ::mithril::Model>::graph().summary()
    }
    /// Fresh parameters with mlx.nn's default initialisation, from the backend's seed and dtype.
    pub fn init(
        backend: &::mithril::MlxBackend,
    ) -> ::std::result::Result<CellParams, ::mithril::Error> {
        ::mithril::init::<Self>(backend)
    }
    /// Runs the model eagerly. Inputs are checked against the declared shapes first.
    pub fn forward(
        params: &CellParams,
        inputs: &CellInputs,
    ) -> ::std::result::Result<CellOutputs, ::mithril::Error> {
        ::mithril::forward::<Self>(params, inputs)
    }
}
/// Parameters of [`Cell`]: a field per layer that has any (72 scalars in all). Gradients have the same type.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
struct CellParams {
    /// `gate`: `Linear(8)`.
    pub gate: CellGateParams,
}
impl ::mithril::Params for CellParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        ::mithril::Params::visit(&self.gate, f);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        ::mithril::Params::visit_mut(&mut self.gate, f);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.field::<CellGateParams>("gate")?;
        ::std::option::Option::Some(Self { gate: __p0 })
    }
}
/// Parameters of layer `gate` (`Linear(8)`) of [`Cell`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
struct CellGateParams {
    /// Shape `[8, 8]` (mlx.nn layout of `Linear`).
    pub weight: ::mithril::__private::Array,
    /// Shape `[8]` (mlx.nn layout of `Linear`).
    pub bias: ::mithril::__private::Array,
}
impl ::mithril::Params for CellGateParams {
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
/// Inputs of [`Cell`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
struct CellInputs {
    /// Shape `[B, 8]`.
    pub x: ::mithril::__private::Array,
    /// Shape `[B, 8]`.
    pub h: ::mithril::__private::Array,
}
impl ::mithril::Values for CellInputs {
    const NAMES: &'static [&'static str] = &["x", "h"];
    fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
        ::std::vec![& self.x, & self.h]
    }
    fn from_arrays(
        arrays: ::std::vec::Vec<::mithril::__private::Array>,
    ) -> ::std::option::Option<Self> {
        #[allow(unused_mut, unused_variables)]
        let mut arrays = arrays.into_iter();
        let __v0 = arrays.next()?;
        let __v1 = arrays.next()?;
        ::std::option::Option::Some(Self { x: __v0, h: __v1 })
    }
}
/// Outputs of [`Cell`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
struct CellOutputs {
    /// Shape `[B, 8]`.
    pub hidden: ::mithril::__private::Array,
    /// Shape `[B, 8]`.
    pub cell: ::mithril::__private::Array,
}
impl ::mithril::Values for CellOutputs {
    const NAMES: &'static [&'static str] = &["hidden", "cell"];
    fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
        ::std::vec![& self.hidden, & self.cell]
    }
    fn from_arrays(
        arrays: ::std::vec::Vec<::mithril::__private::Array>,
    ) -> ::std::option::Option<Self> {
        #[allow(unused_mut, unused_variables)]
        let mut arrays = arrays.into_iter();
        let __v0 = arrays.next()?;
        let __v1 = arrays.next()?;
        ::std::option::Option::Some(Self { hidden: __v0, cell: __v1 })
    }
}
/// The signature of model `Cell`, for `model!` blocks that use it (hidden).
#[doc(hidden)]
#[allow(clippy::crate_in_macro_def)]
macro_rules! __mithril_model_Cell_6d0747c1779d65dd {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" ok Cell() [pub const
        WIDTH : usize = 8;] { input x : [B, WIDTH], h : [B, WIDTH]; Add(x, h) -> gate :
        Linear(WIDTH) -> Sigmoid => hidden; hidden -> Tanh => cell; output hidden, cell;
        } } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
use __mithril_model_Cell_6d0747c1779d65dd as Cell;
#[derive(
    ::std::clone::Clone,
    ::std::marker::Copy,
    ::std::fmt::Debug,
    ::std::default::Default
)]
pub struct Stack;
/// The parameters of [`Stack`] as values known at run time (a `config.json`), for [`Stack::instance`].
#[derive(::std::clone::Clone, ::std::fmt::Debug, ::std::cmp::PartialEq)]
pub struct StackConfig {
    /// `dims: [usize]` (default `[16, 8]`).
    pub dims: ::std::vec::Vec<usize>,
}
impl StackConfig {
    /// A config with the parameters [`Stack`] has no default for, and the defaults of the others.
    #[allow(clippy::new_without_default, clippy::too_many_arguments)]
    pub fn new() -> Self {
        Self {
            dims: ::std::vec![16usize, 8usize],
        }
    }
}
impl ::std::default::Default for StackConfig {
    fn default() -> Self {
        Self::new()
    }
}
impl Stack {
    /// The instantiation of [`Stack`] with `config`'s values, every shape checked before anything is allocated: an error lists every problem, each naming its layer, expected and found.
    pub fn instance(
        config: &StackConfig,
    ) -> ::std::result::Result<::mithril::Instance<Self>, ::mithril::Error> {
        let args = [::mithril::__private::config_arg("dims", &config.dims)];
        ::mithril::Instance::build(
            <Self as ::mithril::__private::Nestable>::nested(),
            &args,
        )
    }
}
impl ::mithril::__private::Nestable for Stack {
    fn nested() -> ::mithril::__private::Nested {
        static TEMPLATE: ::mithril::__private::OnceLock<
            ::mithril::__private::Arc<::mithril::__private::Template>,
        > = ::mithril::__private::OnceLock::new();
        ::mithril::__private::Nested::Family(
            ::mithril::__private::Arc::clone(
                TEMPLATE
                    .get_or_init(|| {
                        static SPEC: ::mithril::__private::ModelSpec = ::mithril::__private::ModelSpec {
                            name: ::std::borrow::Cow::Borrowed("Stack"),
                            params: ::std::borrow::Cow::Borrowed(
                                &[
                                    ::mithril::__private::ParamSpec {
                                        name: ::std::borrow::Cow::Borrowed("dims"),
                                        kind: ::mithril::__private::ParamKind {
                                            item: ::mithril::__private::ParamType::Usize,
                                            list: true,
                                        },
                                        default: ::std::option::Option::Some(
                                            ::mithril::__private::ArgValue::List(
                                                ::std::borrow::Cow::Borrowed(
                                                    &[
                                                        ::mithril::__private::ArgValue::Int(16i64),
                                                        ::mithril::__private::ArgValue::Int(8i64),
                                                    ],
                                                ),
                                            ),
                                        ),
                                    },
                                ],
                            ),
                            inputs: ::std::borrow::Cow::Borrowed(
                                &[
                                    ::mithril::__private::InputSpec {
                                        name: ::std::borrow::Cow::Borrowed("x"),
                                        dims: ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::DimSpec::Sym(
                                                    ::std::borrow::Cow::Borrowed("B"),
                                                ),
                                                ::mithril::__private::DimSpec::Lit(8usize),
                                            ],
                                        ),
                                        differentiable: true,
                                    },
                                    ::mithril::__private::InputSpec {
                                        name: ::std::borrow::Cow::Borrowed("h"),
                                        dims: ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::DimSpec::Sym(
                                                    ::std::borrow::Cow::Borrowed("B"),
                                                ),
                                                ::mithril::__private::DimSpec::Lit(8usize),
                                            ],
                                        ),
                                        differentiable: true,
                                    },
                                ],
                            ),
                            nodes: ::std::borrow::Cow::Borrowed(
                                &[
                                    ::mithril::__private::NodeSpec {
                                        name: ::std::option::Option::None,
                                        layer: ::std::borrow::Cow::Borrowed("Cell"),
                                        choice: ::std::option::Option::None,
                                        args: ::std::borrow::Cow::Borrowed(&[]),
                                        inputs: ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::ValueRef::Named(
                                                    ::std::borrow::Cow::Borrowed("x"),
                                                ),
                                                ::mithril::__private::ValueRef::Named(
                                                    ::std::borrow::Cow::Borrowed("h"),
                                                ),
                                            ],
                                        ),
                                        output: ::std::option::Option::None,
                                        bindings: ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::Binding {
                                                    output: ::std::borrow::Cow::Borrowed("hidden"),
                                                    value: ::std::borrow::Cow::Borrowed("next"),
                                                },
                                                ::mithril::__private::Binding {
                                                    output: ::std::borrow::Cow::Borrowed("cell"),
                                                    value: ::std::borrow::Cow::Borrowed("cell"),
                                                },
                                            ],
                                        ),
                                        repeat: 1usize,
                                        repeat_expr: ::std::option::Option::None,
                                        checkpoint: false,
                                    },
                                    ::mithril::__private::NodeSpec {
                                        name: ::std::option::Option::None,
                                        layer: ::std::borrow::Cow::Borrowed("Add"),
                                        choice: ::std::option::Option::None,
                                        args: ::std::borrow::Cow::Borrowed(&[]),
                                        inputs: ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::ValueRef::Named(
                                                    ::std::borrow::Cow::Borrowed("next"),
                                                ),
                                                ::mithril::__private::ValueRef::Named(
                                                    ::std::borrow::Cow::Borrowed("cell"),
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
                                            ::std::borrow::Cow::Borrowed("layers"),
                                        ),
                                        layer: ::std::borrow::Cow::Borrowed("Linear"),
                                        choice: ::std::option::Option::None,
                                        args: ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::ArgSpec {
                                                    name: ::std::option::Option::None,
                                                    value: ::mithril::__private::ArgValue::Expr(
                                                        ::std::borrow::Cow::Borrowed(
                                                            &[
                                                                ::mithril::__private::ExprTok::Param(
                                                                    ::std::borrow::Cow::Borrowed("dims"),
                                                                ),
                                                                ::mithril::__private::ExprTok::Param(
                                                                    ::std::borrow::Cow::Borrowed("i"),
                                                                ),
                                                                ::mithril::__private::ExprTok::Index,
                                                            ],
                                                        ),
                                                    ),
                                                },
                                            ],
                                        ),
                                        inputs: ::std::borrow::Cow::Borrowed(
                                            &[::mithril::__private::ValueRef::Node(1usize)],
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
                                            &[::mithril::__private::ValueRef::Node(2usize)],
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
                            outputs: ::std::borrow::Cow::Borrowed(
                                &[::std::borrow::Cow::Borrowed("y")],
                            ),
                            shares: ::std::borrow::Cow::Borrowed(&[]),
                            loops: ::std::borrow::Cow::Borrowed(
                                &[
                                    ::mithril::__private::LoopSpec {
                                        var: ::std::borrow::Cow::Borrowed("i"),
                                        start: ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::ExprTok::Value(
                                                    ::mithril::__private::ArgValue::Int(0i64),
                                                ),
                                            ],
                                        ),
                                        end: ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::ExprTok::Param(
                                                    ::std::borrow::Cow::Borrowed("dims"),
                                                ),
                                                ::mithril::__private::ExprTok::Call(
                                                    ::mithril::__private::Func::Len,
                                                    1usize,
                                                ),
                                            ],
                                        ),
                                        first: 2usize,
                                        len: 2usize,
                                    },
                                ],
                            ),
                        };
                        static NESTED: &[(&str, ::mithril::__private::NestedFn)] = &[
                            (
                                "Cell",
                                <Cell as ::mithril::__private::Nestable>::nested
                                    as ::mithril::__private::NestedFn,
                            ),
                        ];
                        ::mithril::__private::build_template(&SPEC, NESTED, &[])
                    }),
            ),
        )
    }
}
impl ::mithril::Model for Stack {
    const NAME: &'static str = "Stack";
    type Params = StackParams;
    type Inputs = StackInputs;
    type Outputs = StackOutputs;
    fn graph() -> &'static ::mithril::__private::Arc<::mithril::__private::Graph> {
        static GRAPH: ::mithril::__private::OnceLock<
            ::mithril::__private::Arc<::mithril::__private::Graph>,
        > = ::mithril::__private::OnceLock::new();
        GRAPH
            .get_or_init(|| ::mithril::__private::build_instance(
                <Self as ::mithril::__private::Nestable>::nested(),
                &[],
            ))
    }
}
impl Stack {
    /// Number of scalar parameters.
    pub const PARAMETER_COUNT: usize = 352usize;
    /// Declared inputs and their shapes.
    pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("x", "[B, 8]"),
        ("h", "[B, 8]"),
    ];
    /// Outputs and their inferred shapes.
    pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("y", "[B, 8]"),
    ];
    /// A table of every layer: name, kind, output shape, parameter count, and totals.
    pub fn summary() -> ::std::string::String {
        <Self as ::mithril::Model>::graph().summary()
    }
    /// Fresh parameters with mlx.nn's default initialisation, from the backend's seed and dtype.
    pub fn init(
        backend: &::mithril::MlxBackend,
    ) -> ::std::result::Result<StackParams, ::mithril::Error> {
        ::mithril::init::<Self>(backend)
    }
    /// Runs the model eagerly. Inputs are checked against the declared shapes first.
    pub fn forward(
        params: &StackParams,
        inputs: &StackInputs,
    ) -> ::std::result::Result<StackOutputs, ::mithril::Error> {
        ::mithril::forward::<Self>(params, inputs)
    }
}
/// Parameters of [`Stack`]: a field per layer that has any (352 scalars in all). Gradients have the same type.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct StackParams {
    /// `cell_0`: `Cell`.
    pub cell_0: <Cell as ::mithril::Family>::Params,
    /// `layers.0`: `Linear(16)`.
    pub layers: ::std::vec::Vec<StackLayersParams>,
}
impl ::mithril::Params for StackParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        ::mithril::Params::visit(&self.cell_0, f);
        for item in &self.layers {
            ::mithril::Params::visit(item, f);
        }
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        ::mithril::Params::visit_mut(&mut self.cell_0, f);
        for item in &mut self.layers {
            ::mithril::Params::visit_mut(item, f);
        }
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.field::<<Cell as ::mithril::Family>::Params>("cell_0")?;
        let __p1 = arrays.repeated::<StackLayersParams>("layers")?;
        ::std::option::Option::Some(Self { cell_0: __p0, layers: __p1 })
    }
}
/// Parameters of layer `layers.0` (`Linear(16)`) of [`Stack`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct StackLayersParams {
    /// Shape `[16, 8]` (mlx.nn layout of `Linear`).
    pub weight: ::mithril::__private::Array,
    /// Shape `[16]` (mlx.nn layout of `Linear`).
    pub bias: ::mithril::__private::Array,
}
impl ::mithril::Params for StackLayersParams {
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
/// Inputs of [`Stack`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct StackInputs {
    /// Shape `[B, 8]`.
    pub x: ::mithril::__private::Array,
    /// Shape `[B, 8]`.
    pub h: ::mithril::__private::Array,
}
impl ::mithril::Values for StackInputs {
    const NAMES: &'static [&'static str] = &["x", "h"];
    fn arrays(&self) -> ::std::vec::Vec<&::mithril::__private::Array> {
        ::std::vec![& self.x, & self.h]
    }
    fn from_arrays(
        arrays: ::std::vec::Vec<::mithril::__private::Array>,
    ) -> ::std::option::Option<Self> {
        #[allow(unused_mut, unused_variables)]
        let mut arrays = arrays.into_iter();
        let __v0 = arrays.next()?;
        let __v1 = arrays.next()?;
        ::std::option::Option::Some(Self { x: __v0, h: __v1 })
    }
}
/// Outputs of [`Stack`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct StackOutputs {
    /// Shape `[B, 8]`.
    pub y: ::mithril::__private::Array,
}
impl ::mithril::Values for StackOutputs {
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
/// The signature of model `Stack`, for `model!` blocks that use it (hidden).
#[doc(hidden)]
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! __mithril_model_Stack_e40718c7ad06c7c7 {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" ok Stack(dims : [usize]
        = [16, 8]) [pub const WIDTH : usize = 8;] { input x : [B, WIDTH], h : [B, WIDTH];
        Cell(x, h) => { hidden : next, cell }; Add(next, cell) -> for i in 0..len(dims) {
        layers : Linear(dims[i]) -> Relu } => y; output y; } "Cell" { ok Cell() [pub
        const WIDTH : usize = 8;] { input x : [B, WIDTH], h : [B, WIDTH]; Add(x, h) ->
        gate : Linear(WIDTH) -> Sigmoid => hidden; hidden -> Tanh => cell; output hidden,
        cell; } } } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
pub use __mithril_model_Stack_e40718c7ad06c7c7 as Stack;

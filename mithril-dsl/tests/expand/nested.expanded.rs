//! A model of the block nested and repeated (the repeat recomputed in the
//! backward pass), a custom op by path, a private model.
#[derive(
    ::std::clone::Clone,
    ::std::marker::Copy,
    ::std::fmt::Debug,
    ::std::default::Default
)]
struct Block;
impl ::mithril::__private::Nestable for Block {
    fn nested() -> ::mithril::__private::Nested {
        ::mithril::__private::Nested::Model(
            ::mithril::__private::Arc::clone(<Self as ::mithril::Model>::graph()),
        )
    }
}
impl ::mithril::Model for Block {
    const NAME: &'static str = "Block";
    type Params = BlockParams;
    type Inputs = BlockInputs;
    type Outputs = BlockOutputs;
    fn graph() -> &'static ::mithril::__private::Arc<::mithril::__private::Graph> {
        static SPEC: ::mithril::__private::ModelSpec = ::mithril::__private::ModelSpec {
            name: ::std::borrow::Cow::Borrowed("Block"),
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
                                ::mithril::__private::DimSpec::Lit(16usize),
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
                            ::std::borrow::Cow::Borrowed("fc"),
                        ),
                        layer: ::std::borrow::Cow::Borrowed("Linear"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::None,
                                    value: ::mithril::__private::ArgValue::Int(16i64),
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
                        output: ::std::option::Option::None,
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 1usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: false,
                    },
                    ::mithril::__private::NodeSpec {
                        name: ::std::option::Option::None,
                        layer: ::std::borrow::Cow::Borrowed("Lambda"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ArgSpec {
                                    name: ::std::option::Option::None,
                                    value: ::mithril::__private::ArgValue::Path(
                                        ::std::borrow::Cow::Borrowed("ops::swish"),
                                    ),
                                },
                            ],
                        ),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[::mithril::__private::ValueRef::Node(0usize)],
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
        GRAPH
            .get_or_init(|| ::mithril::__private::build_graph(
                &SPEC,
                &[],
                &[("ops::swish", ::mithril::__private::custom_op(ops::swish))],
            ))
    }
}
impl Block {
    /// Number of scalar parameters.
    pub const PARAMETER_COUNT: usize = 272usize;
    /// Declared inputs and their shapes.
    pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("x", "[B, 16]"),
    ];
    /// Outputs and their inferred shapes.
    pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("y", "[B, 16]"),
    ];
    /// A table of every layer: name, kind, output shape, parameter count, and totals.
    pub fn summary() -> ::std::string::String {
        <Self as ::mithril::Model>::graph().summary()
    }
    /// Fresh parameters with mlx.nn's default initialisation, from the backend's seed and dtype.
    pub fn init(
        backend: &::mithril::MlxBackend,
    ) -> ::std::result::Result<BlockParams, ::mithril::Error> {
        ::mithril::init::<Self>(backend)
    }
    /// Runs the model eagerly. Inputs are checked against the declared shapes first.
    pub fn forward(
        params: &BlockParams,
        inputs: &BlockInputs,
    ) -> ::std::result::Result<BlockOutputs, ::mithril::Error> {
        ::mithril::forward::<Self>(params, inputs)
    }
}
/// Parameters of [`Block`]: a field per layer that has any (272 scalars in all). Gradients have the same type.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
struct BlockParams {
    /// `fc`: `Linear(16)`.
    pub fc: BlockFcParams,
}
impl ::mithril::Params for BlockParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        ::mithril::Params::visit(&self.fc, f);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        ::mithril::Params::visit_mut(&mut self.fc, f);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.field::<BlockFcParams>("fc")?;
        ::std::option::Option::Some(Self { fc: __p0 })
    }
}
/// Parameters of layer `fc` (`Linear(16)`) of [`Block`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
struct BlockFcParams {
    /// Shape `[16, 16]` (mlx.nn layout of `Linear`).
    pub weight: ::mithril::__private::Array,
    /// Shape `[16]` (mlx.nn layout of `Linear`).
    pub bias: ::mithril::__private::Array,
}
impl ::mithril::Params for BlockFcParams {
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
/// Inputs of [`Block`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
struct BlockInputs {
    /// Shape `[B, 16]`.
    pub x: ::mithril::__private::Array,
}
impl ::mithril::Values for BlockInputs {
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
/// Outputs of [`Block`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
struct BlockOutputs {
    /// Shape `[B, 16]`.
    pub y: ::mithril::__private::Array,
}
impl ::mithril::Values for BlockOutputs {
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
/// The signature of model `Block`, for `model!` blocks that use it (hidden).
#[doc(hidden)]
#[allow(clippy::crate_in_macro_def)]
macro_rules! __mithril_model_Block_864bca6d04f6410b {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" ok Block() [] { input x
        : [B, 16]; x -> fc : Linear(16) -> Lambda(ops::swish) => y; output y; } } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
use __mithril_model_Block_864bca6d04f6410b as Block;
#[derive(
    ::std::clone::Clone,
    ::std::marker::Copy,
    ::std::fmt::Debug,
    ::std::default::Default
)]
pub(crate) struct Net;
impl ::mithril::__private::Nestable for Net {
    fn nested() -> ::mithril::__private::Nested {
        ::mithril::__private::Nested::Model(
            ::mithril::__private::Arc::clone(<Self as ::mithril::Model>::graph()),
        )
    }
}
impl ::mithril::Model for Net {
    const NAME: &'static str = "Net";
    type Params = NetParams;
    type Inputs = NetInputs;
    type Outputs = NetOutputs;
    fn graph() -> &'static ::mithril::__private::Arc<::mithril::__private::Graph> {
        static SPEC: ::mithril::__private::ModelSpec = ::mithril::__private::ModelSpec {
            name: ::std::borrow::Cow::Borrowed("Net"),
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
                                ::mithril::__private::DimSpec::Lit(16usize),
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
                        layer: ::std::borrow::Cow::Borrowed("Block"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("x"),
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
                            ::std::borrow::Cow::Borrowed("blocks"),
                        ),
                        layer: ::std::borrow::Cow::Borrowed("Block"),
                        choice: ::std::option::Option::None,
                        args: ::std::borrow::Cow::Borrowed(&[]),
                        inputs: ::std::borrow::Cow::Borrowed(
                            &[::mithril::__private::ValueRef::Node(0usize)],
                        ),
                        output: ::std::option::Option::Some(
                            ::std::borrow::Cow::Borrowed("features"),
                        ),
                        bindings: ::std::borrow::Cow::Borrowed(&[]),
                        repeat: 2usize,
                        repeat_expr: ::std::option::Option::None,
                        checkpoint: true,
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
                                    value: ::mithril::__private::ArgValue::Int(4i64),
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
                            &[
                                ::mithril::__private::ValueRef::Named(
                                    ::std::borrow::Cow::Borrowed("features"),
                                ),
                            ],
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
            shares: ::std::borrow::Cow::Borrowed(&[]),
            loops: ::std::borrow::Cow::Borrowed(&[]),
        };
        static GRAPH: ::mithril::__private::OnceLock<
            ::mithril::__private::Arc<::mithril::__private::Graph>,
        > = ::mithril::__private::OnceLock::new();
        GRAPH
            .get_or_init(|| ::mithril::__private::build_graph(
                &SPEC,
                &[
                    (
                        "Block",
                        <Block as ::mithril::__private::Nestable>::nested
                            as ::mithril::__private::NestedFn,
                    ),
                ],
                &[],
            ))
    }
}
impl Net {
    /// Number of scalar parameters.
    pub const PARAMETER_COUNT: usize = 880usize;
    /// Declared inputs and their shapes.
    pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("x", "[B, 16]"),
    ];
    /// Outputs and their inferred shapes.
    pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("logits", "[B, 4]"),
    ];
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
/// Parameters of [`Net`]: a field per layer that has any (880 scalars in all). Gradients have the same type.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub(crate) struct NetParams {
    /// `block_0`: `Block`.
    pub block_0: <Block as ::mithril::Family>::Params,
    /// `blocks`: `checkpoint Block * 2`.
    pub blocks: ::std::vec::Vec<<Block as ::mithril::Family>::Params>,
    /// `head`: `Linear(4, bias = false)`.
    pub head: NetHeadParams,
}
impl ::mithril::Params for NetParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        ::mithril::Params::visit(&self.block_0, f);
        for item in &self.blocks {
            ::mithril::Params::visit(item, f);
        }
        ::mithril::Params::visit(&self.head, f);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        ::mithril::Params::visit_mut(&mut self.block_0, f);
        for item in &mut self.blocks {
            ::mithril::Params::visit_mut(item, f);
        }
        ::mithril::Params::visit_mut(&mut self.head, f);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.field::<<Block as ::mithril::Family>::Params>("block_0")?;
        let __p1 = arrays
            .fixed::<<Block as ::mithril::Family>::Params>("blocks", 2usize)?;
        let __p2 = arrays.field::<NetHeadParams>("head")?;
        ::std::option::Option::Some(Self {
            block_0: __p0,
            blocks: __p1,
            head: __p2,
        })
    }
}
/// Parameters of layer `head` (`Linear(4, bias = false)`) of [`Net`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub(crate) struct NetHeadParams {
    /// Shape `[4, 16]` (mlx.nn layout of `Linear`).
    pub weight: ::mithril::__private::Array,
}
impl ::mithril::Params for NetHeadParams {
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
/// Inputs of [`Net`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub(crate) struct NetInputs {
    /// Shape `[B, 16]`.
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
pub(crate) struct NetOutputs {
    /// Shape `[B, 4]`.
    pub logits: ::mithril::__private::Array,
}
impl ::mithril::Values for NetOutputs {
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
/// The signature of model `Net`, for `model!` blocks that use it (hidden).
#[doc(hidden)]
#[allow(clippy::crate_in_macro_def)]
macro_rules! __mithril_model_Net_5ee68ec3ab39efb8 {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" ok Net() [] { input x :
        [B, 16]; x -> Block -> checkpoint blocks : Block * 2 => features; features ->
        head : Linear(4, bias = false) => logits; output logits; } "Block" { ok Block()
        [] { input x : [B, 16]; x -> fc : Linear(16) -> Lambda(ops::swish) => y; output
        y; } } } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
pub(crate) use __mithril_model_Net_5ee68ec3ab39efb8 as Net;

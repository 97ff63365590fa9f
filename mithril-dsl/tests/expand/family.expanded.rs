//! A model family (parameters with and without defaults, expressions where
//! numbers go, a layer parameter, a repeat count of a parameter) and an
//! instance of it.
#[derive(
    ::std::clone::Clone,
    ::std::marker::Copy,
    ::std::fmt::Debug,
    ::std::default::Default
)]
pub struct Block;
impl ::mithril::Family for Block {
    const NAME: &'static str = "Block";
    type Params = BlockParams;
    type Inputs = BlockInputs;
    type Outputs = BlockOutputs;
}
/// The parameters of [`Block`] as values known at run time (a `config.json`), for [`Block::instance`].
#[derive(::std::clone::Clone, ::std::fmt::Debug, ::std::cmp::PartialEq)]
pub struct BlockConfig {
    /// `d: usize`.
    pub d: usize,
    /// `heads: usize` (default `2`).
    pub heads: usize,
    /// `act: Layer` (default `Gelu`).
    pub act: ::std::string::String,
}
impl BlockConfig {
    /// A config with the parameters [`Block`] has no default for, and the defaults of the others.
    #[allow(clippy::new_without_default, clippy::too_many_arguments)]
    pub fn new(d: usize) -> Self {
        Self {
            d: d,
            heads: 2usize,
            act: ::std::string::String::from("Gelu"),
        }
    }
}
impl Block {
    /// The instantiation of [`Block`] with `config`'s values, every shape checked before anything is allocated: an error lists every problem, each naming its layer, expected and found.
    pub fn instance(
        config: &BlockConfig,
    ) -> ::std::result::Result<::mithril::Instance<Self>, ::mithril::Error> {
        let args = [
            ::mithril::__private::config_arg("d", &config.d),
            ::mithril::__private::config_arg("heads", &config.heads),
            ::mithril::__private::config_arg("act", &config.act),
        ];
        ::mithril::Instance::build(
            <Self as ::mithril::__private::Nestable>::nested(),
            &args,
        )
    }
}
impl ::mithril::__private::Nestable for Block {
    fn nested() -> ::mithril::__private::Nested {
        static TEMPLATE: ::mithril::__private::OnceLock<
            ::mithril::__private::Arc<::mithril::__private::Template>,
        > = ::mithril::__private::OnceLock::new();
        ::mithril::__private::Nested::Family(
            ::mithril::__private::Arc::clone(
                TEMPLATE
                    .get_or_init(|| {
                        static SPEC: ::mithril::__private::ModelSpec = ::mithril::__private::ModelSpec {
                            name: ::std::borrow::Cow::Borrowed("Block"),
                            params: ::std::borrow::Cow::Borrowed(
                                &[
                                    ::mithril::__private::ParamSpec {
                                        name: ::std::borrow::Cow::Borrowed("d"),
                                        kind: ::mithril::__private::ParamKind {
                                            item: ::mithril::__private::ParamType::Usize,
                                            list: false,
                                        },
                                        default: ::std::option::Option::None,
                                    },
                                    ::mithril::__private::ParamSpec {
                                        name: ::std::borrow::Cow::Borrowed("heads"),
                                        kind: ::mithril::__private::ParamKind {
                                            item: ::mithril::__private::ParamType::Usize,
                                            list: false,
                                        },
                                        default: ::std::option::Option::Some(
                                            ::mithril::__private::ArgValue::Int(2i64),
                                        ),
                                    },
                                    ::mithril::__private::ParamSpec {
                                        name: ::std::borrow::Cow::Borrowed("act"),
                                        kind: ::mithril::__private::ParamKind {
                                            item: ::mithril::__private::ParamType::Layer,
                                            list: false,
                                        },
                                        default: ::std::option::Option::Some(
                                            ::mithril::__private::ArgValue::Ident(
                                                ::std::borrow::Cow::Borrowed("Gelu"),
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
                                                ::mithril::__private::DimSpec::Sym(
                                                    ::std::borrow::Cow::Borrowed("T"),
                                                ),
                                                ::mithril::__private::DimSpec::Expr(
                                                    ::std::borrow::Cow::Borrowed(
                                                        &[
                                                            ::mithril::__private::ExprTok::Param(
                                                                ::std::borrow::Cow::Borrowed("d"),
                                                            ),
                                                        ],
                                                    ),
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
                                            ::std::borrow::Cow::Borrowed("attn"),
                                        ),
                                        layer: ::std::borrow::Cow::Borrowed("MultiHeadAttention"),
                                        choice: ::std::option::Option::None,
                                        args: ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::ArgSpec {
                                                    name: ::std::option::Option::None,
                                                    value: ::mithril::__private::ArgValue::Expr(
                                                        ::std::borrow::Cow::Borrowed(
                                                            &[
                                                                ::mithril::__private::ExprTok::Param(
                                                                    ::std::borrow::Cow::Borrowed("d"),
                                                                ),
                                                            ],
                                                        ),
                                                    ),
                                                },
                                                ::mithril::__private::ArgSpec {
                                                    name: ::std::option::Option::None,
                                                    value: ::mithril::__private::ArgValue::Expr(
                                                        ::std::borrow::Cow::Borrowed(
                                                            &[
                                                                ::mithril::__private::ExprTok::Param(
                                                                    ::std::borrow::Cow::Borrowed("heads"),
                                                                ),
                                                            ],
                                                        ),
                                                    ),
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
                                        name: ::std::option::Option::Some(
                                            ::std::borrow::Cow::Borrowed("up"),
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
                                                                ::mithril::__private::ExprTok::Value(
                                                                    ::mithril::__private::ArgValue::Int(4i64),
                                                                ),
                                                                ::mithril::__private::ExprTok::Param(
                                                                    ::std::borrow::Cow::Borrowed("d"),
                                                                ),
                                                                ::mithril::__private::ExprTok::Binary(
                                                                    ::mithril::__private::BinaryOp::Mul,
                                                                ),
                                                            ],
                                                        ),
                                                    ),
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
                                        layer: ::std::borrow::Cow::Borrowed("$act"),
                                        choice: ::std::option::Option::Some(
                                            ::std::borrow::Cow::Borrowed(
                                                &[
                                                    ::mithril::__private::ExprTok::Param(
                                                        ::std::borrow::Cow::Borrowed("act"),
                                                    ),
                                                ],
                                            ),
                                        ),
                                        args: ::std::borrow::Cow::Borrowed(&[]),
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
                                        name: ::std::option::Option::Some(
                                            ::std::borrow::Cow::Borrowed("down"),
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
                                                                    ::std::borrow::Cow::Borrowed("d"),
                                                                ),
                                                            ],
                                                        ),
                                                    ),
                                                },
                                            ],
                                        ),
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
                            loops: ::std::borrow::Cow::Borrowed(&[]),
                        };
                        static NESTED: &[(&str, ::mithril::__private::NestedFn)] = &[];
                        ::mithril::__private::build_template(&SPEC, NESTED, &[])
                    }),
            ),
        )
    }
}
/// Parameters of [`Block`]: a field per layer that has any (0 scalars in all). Gradients have the same type.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct BlockParams {
    /// `attn`.
    pub attn: BlockAttnParams,
    /// `up`.
    pub up: BlockUpParams,
    /// `down`.
    pub down: BlockDownParams,
}
impl ::mithril::Params for BlockParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        ::mithril::Params::visit(&self.attn, f);
        ::mithril::Params::visit(&self.up, f);
        ::mithril::Params::visit(&self.down, f);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        ::mithril::Params::visit_mut(&mut self.attn, f);
        ::mithril::Params::visit_mut(&mut self.up, f);
        ::mithril::Params::visit_mut(&mut self.down, f);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.field::<BlockAttnParams>("attn")?;
        let __p1 = arrays.field::<BlockUpParams>("up")?;
        let __p2 = arrays.field::<BlockDownParams>("down")?;
        ::std::option::Option::Some(Self {
            attn: __p0,
            up: __p1,
            down: __p2,
        })
    }
}
/// Parameters of layer `attn` of [`Block`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct BlockAttnParams {
    ///
    pub query_proj_weight: ::mithril::__private::Array,
    ///
    pub key_proj_weight: ::mithril::__private::Array,
    ///
    pub value_proj_weight: ::mithril::__private::Array,
    ///
    pub out_proj_weight: ::mithril::__private::Array,
}
impl ::mithril::Params for BlockAttnParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        f(&self.query_proj_weight);
        f(&self.key_proj_weight);
        f(&self.value_proj_weight);
        f(&self.out_proj_weight);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        f(&mut self.query_proj_weight);
        f(&mut self.key_proj_weight);
        f(&mut self.value_proj_weight);
        f(&mut self.out_proj_weight);
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.take()?;
        let __p1 = arrays.take()?;
        let __p2 = arrays.take()?;
        let __p3 = arrays.take()?;
        ::std::option::Option::Some(Self {
            query_proj_weight: __p0,
            key_proj_weight: __p1,
            value_proj_weight: __p2,
            out_proj_weight: __p3,
        })
    }
}
/// Parameters of layer `up` of [`Block`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct BlockUpParams {
    ///
    pub weight: ::mithril::__private::Array,
    ///
    pub bias: ::mithril::__private::Array,
}
impl ::mithril::Params for BlockUpParams {
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
/// Parameters of layer `down` of [`Block`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct BlockDownParams {
    ///
    pub weight: ::mithril::__private::Array,
    ///
    pub bias: ::mithril::__private::Array,
}
impl ::mithril::Params for BlockDownParams {
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
pub struct BlockInputs {
    ///
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
pub struct BlockOutputs {
    ///
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
#[macro_export]
macro_rules! __mithril_model_Block_c180c8eebe3d78c1 {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" ok Block(d : usize,
        heads : usize = 2, act : Layer = Gelu) [] { input x : [B, T, d]; x -> attn :
        MultiHeadAttention(d, heads) -> up : Linear(4 * d) -> act -> down : Linear(d) =>
        y; output y; } } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
pub use __mithril_model_Block_c180c8eebe3d78c1 as Block;
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
    /// `d: usize` (default `8`).
    pub d: usize,
    /// `layers: usize` (default `2`).
    pub layers: usize,
}
impl StackConfig {
    /// A config with the parameters [`Stack`] has no default for, and the defaults of the others.
    #[allow(clippy::new_without_default, clippy::too_many_arguments)]
    pub fn new() -> Self {
        Self { d: 8usize, layers: 2usize }
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
        let args = [
            ::mithril::__private::config_arg("d", &config.d),
            ::mithril::__private::config_arg("layers", &config.layers),
        ];
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
                                        name: ::std::borrow::Cow::Borrowed("d"),
                                        kind: ::mithril::__private::ParamKind {
                                            item: ::mithril::__private::ParamType::Usize,
                                            list: false,
                                        },
                                        default: ::std::option::Option::Some(
                                            ::mithril::__private::ArgValue::Int(8i64),
                                        ),
                                    },
                                    ::mithril::__private::ParamSpec {
                                        name: ::std::borrow::Cow::Borrowed("layers"),
                                        kind: ::mithril::__private::ParamKind {
                                            item: ::mithril::__private::ParamType::Usize,
                                            list: false,
                                        },
                                        default: ::std::option::Option::Some(
                                            ::mithril::__private::ArgValue::Int(2i64),
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
                                                ::mithril::__private::DimSpec::Sym(
                                                    ::std::borrow::Cow::Borrowed("T"),
                                                ),
                                                ::mithril::__private::DimSpec::Expr(
                                                    ::std::borrow::Cow::Borrowed(
                                                        &[
                                                            ::mithril::__private::ExprTok::Param(
                                                                ::std::borrow::Cow::Borrowed("d"),
                                                            ),
                                                        ],
                                                    ),
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
                                            ::std::borrow::Cow::Borrowed("blocks"),
                                        ),
                                        layer: ::std::borrow::Cow::Borrowed("Block"),
                                        choice: ::std::option::Option::None,
                                        args: ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::ArgSpec {
                                                    name: ::std::option::Option::Some(
                                                        ::std::borrow::Cow::Borrowed("d"),
                                                    ),
                                                    value: ::mithril::__private::ArgValue::Expr(
                                                        ::std::borrow::Cow::Borrowed(
                                                            &[
                                                                ::mithril::__private::ExprTok::Param(
                                                                    ::std::borrow::Cow::Borrowed("d"),
                                                                ),
                                                            ],
                                                        ),
                                                    ),
                                                },
                                                ::mithril::__private::ArgSpec {
                                                    name: ::std::option::Option::Some(
                                                        ::std::borrow::Cow::Borrowed("heads"),
                                                    ),
                                                    value: ::mithril::__private::ArgValue::Expr(
                                                        ::std::borrow::Cow::Borrowed(
                                                            &[
                                                                ::mithril::__private::ExprTok::Param(
                                                                    ::std::borrow::Cow::Borrowed("d"),
                                                                ),
                                                                ::mithril::__private::ExprTok::Value(
                                                                    ::mithril::__private::ArgValue::Int(4i64),
                                                                ),
                                                                ::mithril::__private::ExprTok::Binary(
                                                                    ::mithril::__private::BinaryOp::Div,
                                                                ),
                                                            ],
                                                        ),
                                                    ),
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
                                        repeat_expr: ::std::option::Option::Some(
                                            ::std::borrow::Cow::Borrowed(
                                                &[
                                                    ::mithril::__private::ExprTok::Param(
                                                        ::std::borrow::Cow::Borrowed("layers"),
                                                    ),
                                                ],
                                            ),
                                        ),
                                        checkpoint: false,
                                    },
                                    ::mithril::__private::NodeSpec {
                                        name: ::std::option::Option::None,
                                        layer: ::std::borrow::Cow::Borrowed("Multiply"),
                                        choice: ::std::option::Option::None,
                                        args: ::std::borrow::Cow::Borrowed(&[]),
                                        inputs: ::std::borrow::Cow::Borrowed(
                                            &[
                                                ::mithril::__private::ValueRef::Node(0usize),
                                                ::mithril::__private::ValueRef::Literal(
                                                    ::mithril::__private::Scalar::new(0.125f64),
                                                ),
                                            ],
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
                            loops: ::std::borrow::Cow::Borrowed(&[]),
                        };
                        static NESTED: &[(&str, ::mithril::__private::NestedFn)] = &[
                            (
                                "Block",
                                <Block as ::mithril::__private::Nestable>::nested
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
    pub const PARAMETER_COUNT: usize = 1616usize;
    /// Declared inputs and their shapes.
    pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("x", "[B, T, 8]"),
    ];
    /// Outputs and their inferred shapes.
    pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("y", "[B, T, 8]"),
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
/// Parameters of [`Stack`]: a field per layer that has any (1616 scalars in all). Gradients have the same type.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct StackParams {
    /// `blocks`: `Block(d = 8, heads = 2) * 2`.
    pub blocks: ::std::vec::Vec<<Block as ::mithril::Family>::Params>,
}
impl ::mithril::Params for StackParams {
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a ::mithril::__private::Array)) {
        for item in &self.blocks {
            ::mithril::Params::visit(item, f);
        }
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut ::mithril::__private::Array)) {
        for item in &mut self.blocks {
            ::mithril::Params::visit_mut(item, f);
        }
    }
    fn read(
        arrays: &mut ::mithril::__private::ArrayReader<'_>,
    ) -> ::std::option::Option<Self> {
        let __p0 = arrays.repeated::<<Block as ::mithril::Family>::Params>("blocks")?;
        ::std::option::Option::Some(Self { blocks: __p0 })
    }
}
/// Inputs of [`Stack`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct StackInputs {
    /// Shape `[B, T, 8]`.
    pub x: ::mithril::__private::Array,
}
impl ::mithril::Values for StackInputs {
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
/// Outputs of [`Stack`].
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct StackOutputs {
    /// Shape `[B, T, 8]`.
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
macro_rules! __mithril_model_Stack_e3ffcd8c6ffca768 {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" ok Stack(d : usize = 8,
        layers : usize = 2) [] { input x : [B, T, d]; x -> blocks : Block(d = d, heads =
        d / 4) * layers -> Multiply(1.0 / 8.0) => y; output y; } "Block" { ok Block(d :
        usize, heads : usize = 2, act : Layer = Gelu) [] { input x : [B, T, d]; x -> attn
        : MultiHeadAttention(d, heads) -> up : Linear(4 * d) -> act -> down : Linear(d)
        => y; output y; } } } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
pub use __mithril_model_Stack_e3ffcd8c6ffca768 as Stack;
/// `Stack(d = 16, layers = 3)`: an instance of the model family `Stack`.
#[derive(
    ::std::clone::Clone,
    ::std::marker::Copy,
    ::std::fmt::Debug,
    ::std::default::Default
)]
pub struct Wide;
impl ::mithril::__private::Nestable for Wide {
    fn nested() -> ::mithril::__private::Nested {
        ::mithril::__private::Nested::Model(
            ::mithril::__private::Arc::clone(<Self as ::mithril::Model>::graph()),
        )
    }
}
impl ::mithril::Model for Wide {
    const NAME: &'static str = "Wide";
    type Params = <Stack as ::mithril::Family>::Params;
    type Inputs = <Stack as ::mithril::Family>::Inputs;
    type Outputs = <Stack as ::mithril::Family>::Outputs;
    fn graph() -> &'static ::mithril::__private::Arc<::mithril::__private::Graph> {
        static ARGS: &[::mithril::__private::ArgSpec] = &[
            ::mithril::__private::ArgSpec {
                name: ::std::option::Option::Some(::std::borrow::Cow::Borrowed("d")),
                value: ::mithril::__private::ArgValue::Int(16i64),
            },
            ::mithril::__private::ArgSpec {
                name: ::std::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("layers"),
                ),
                value: ::mithril::__private::ArgValue::Int(3i64),
            },
        ];
        static GRAPH: ::mithril::__private::OnceLock<
            ::mithril::__private::Arc<::mithril::__private::Graph>,
        > = ::mithril::__private::OnceLock::new();
        GRAPH
            .get_or_init(|| ::mithril::__private::build_instance(
                <Stack as ::mithril::__private::Nestable>::nested(),
                ARGS,
            ))
    }
}
impl Wide {
    /// Number of scalar parameters.
    pub const PARAMETER_COUNT: usize = 9456usize;
    /// Declared inputs and their shapes.
    pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("x", "[B, T, 16]"),
    ];
    /// Outputs and their inferred shapes.
    pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[
        ("y", "[B, T, 16]"),
    ];
    /// A table of every layer: name, kind, output shape, parameter count, and totals.
    pub fn summary() -> ::std::string::String {
        <Self as ::mithril::Model>::graph().summary()
    }
    /// Fresh parameters with mlx.nn's default initialisation, from the backend's seed and dtype.
    pub fn init(
        backend: &::mithril::MlxBackend,
    ) -> ::std::result::Result<<Stack as ::mithril::Family>::Params, ::mithril::Error> {
        ::mithril::init::<Self>(backend)
    }
    /// Runs the model eagerly. Inputs are checked against the declared shapes first.
    pub fn forward(
        params: &<Stack as ::mithril::Family>::Params,
        inputs: &<Stack as ::mithril::Family>::Inputs,
    ) -> ::std::result::Result<<Stack as ::mithril::Family>::Outputs, ::mithril::Error> {
        ::mithril::forward::<Self>(params, inputs)
    }
}
/// The signature of model `Wide`, for `model!` blocks that use it (hidden).
#[doc(hidden)]
#[allow(clippy::crate_in_macro_def)]
#[macro_export]
macro_rules! __mithril_model_Wide_fb50a378606a0936 {
    ({ $($next:tt)* } $($rest:tt)*) => {
        $($next)* ! { $($rest)* { "mithril-dsl 0.1.0 signature 3" instance Wide() [] {
        Stack(d = 16, layers = 3) } "Stack" { ok Stack(d : usize = 8, layers : usize = 2)
        [] { input x : [B, T, d]; x -> blocks : Block(d = d, heads = d / 4) * layers ->
        Multiply(1.0 / 8.0) => y; output y; } "Block" { ok Block(d : usize, heads : usize
        = 2, act : Layer = Gelu) [] { input x : [B, T, d]; x -> attn :
        MultiHeadAttention(d, heads) -> up : Linear(4 * d) -> act -> down : Linear(d) =>
        y; output y; } } } } }
    };
}
#[doc(hidden)]
#[allow(unused_imports)]
pub use __mithril_model_Wide_fb50a378606a0936 as Wide;

//! From the syntax tree to mithril-core's [`ModelSpec`], remembering which
//! tokens each part came from so core's errors can point at them.
//!
//! Names are read once here: raw identifiers lose their `r#` (the model
//! sees `type`, the generated field is `r#type`), layer paths and the
//! function paths of custom ops are normalised to one spelling
//! (`zoo::Block`, `ops::swish`; parentheses dropped), and literals are
//! checked against the sizes MLX takes.

mod operand;

use std::borrow::Cow;

use mithril_core::args::{ArgSpec, ArgValue};
use mithril_core::dim::MAX_SIZE;
use mithril_core::graph::{
    Binding, DimSpec, InputSpec, LoopSpec, MAX_REPEAT, ModelSpec, NodeSpec, Scalar, ShareSpec,
    Site, ValueRef, repeat_out_of_range, size_out_of_range,
};
use mithril_core::layers::{Buffer, LayerRule};
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Expr, Ident, Lit, Path, UnOp};

use mithril_core::family::{self, ExprTok, Func, LAYER_PARAM, ParamKind, ParamSpec, ParamType};

use crate::ast::{
    BufferDecl, Call, ConstDef, DimTok, Head, ModelDef, Operand, Stage, Stmt, Target,
};

/// A model's spec and the tokens behind each of its sites.
pub struct ModelIr {
    pub spec: ModelSpec,
    pub name: Ident,
    pub inputs: Vec<Ident>,
    pub nodes: Vec<NodeTokens>,
    pub outputs: Vec<Ident>,
    /// Each `share` statement's target and source paths as written.
    pub shares: Vec<(TokenStream, TokenStream)>,
    /// Each loop's header, `for i in 0..n`.
    pub loops: Vec<TokenStream>,
    /// `Name = Family(args);`: the spec's one node is the call.
    pub instance: bool,
}

pub struct NodeTokens {
    /// The call as written, `fc1: Linear(128)`.
    pub call: TokenStream,
    /// The user's name for the layer, `fc1`.
    pub name: Option<Ident>,
    /// The layer's path as written, `Linear` or `zoo::Block`.
    pub layer: Path,
    pub args: Vec<TokenStream>,
    pub inputs: Vec<TokenStream>,
    pub output: Option<Ident>,
    /// `hidden: h` of `=> { hidden: h, cell }`, each.
    pub bindings: Vec<TokenStream>,
    pub repeat: Option<TokenStream>,
    /// The function a custom op calls, normalised (see [`function_arg`]).
    pub function: Option<Path>,
}

impl ModelIr {
    /// The tokens to underline for a site.
    pub fn tokens(&self, site: Site) -> TokenStream {
        let node = |i: usize| self.nodes.get(i);
        let found = match site {
            Site::Model => None,
            Site::Input(i) => self.inputs.get(i).map(ToTokens::to_token_stream),
            Site::Node(i) => node(i).map(|n| n.call.clone()),
            Site::NodeArg { node: i, arg } => node(i).and_then(|n| n.args.get(arg).cloned()),
            Site::NodeInput { node: i, input } => {
                node(i).and_then(|n| n.inputs.get(input).cloned())
            }
            Site::NodeOutput(i) => node(i).map(|n| n.output.to_token_stream()),
            Site::NodeBinding { node: i, binding } => {
                node(i).and_then(|n| n.bindings.get(binding).cloned())
            }
            Site::NodeRepeat(i) => node(i).map(|n| n.repeat.clone().unwrap_or(n.call.clone())),
            Site::Output(i) => self.outputs.get(i).map(ToTokens::to_token_stream),
            Site::Loop(i) => self.loops.get(i).cloned(),
            Site::ShareTarget(i) => self.shares.get(i).map(|(t, _)| t.clone()),
            Site::ShareSource(i) => self.shares.get(i).map(|(_, s)| s.clone()),
        };
        found
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| self.name.to_token_stream())
    }
}

/// The model of the block a layer key names: `Block`, or `self::Block`.
pub fn local_index(models: &[ModelIr], key: &str) -> Option<usize> {
    let name = key.strip_prefix("self::").unwrap_or(key);
    if name.contains("::") {
        return None;
    }
    models.iter().position(|m| m.spec.name == name)
}

/// An identifier as the model sees it: `r#type` is `type`.
pub fn text(ident: &Ident) -> Cow<'static, str> {
    Cow::Owned(ident.unraw().to_string())
}

/// A path as one string: `zoo::blocks::Block`, `::ops::f`, `ops::f::<f32>`.
/// Layer keys and custom-op keys are written this way on both sides (the
/// spec the macro checks and the table generated code hands the runtime).
pub fn path_key(path: &Path) -> String {
    let mut key = String::new();
    if path.leading_colon.is_some() {
        key.push_str("::");
    }
    for (i, segment) in path.segments.iter().enumerate() {
        if i > 0 {
            key.push_str("::");
        }
        key.push_str(&segment.ident.unraw().to_string());
        if !segment.arguments.is_none() {
            key.push_str(
                &segment
                    .arguments
                    .to_token_stream()
                    .to_string()
                    .replace(' ', ""),
            );
        }
    }
    key
}

/// The parameters a model's expressions may read, and the block's constants.
#[derive(Default, Clone)]
pub struct Scope {
    params: Vec<(String, ParamKind)>,
    consts: Constants,
    /// The model's value names (inputs, buffers, statements' results),
    /// which expressions cannot read: only for explaining that.
    values: Vec<String>,
}

/// The values of a block's `const` items, by name.
pub type Constants = Vec<(String, ArgValue)>;

/// Evaluates a block's `const` items in order (each may read the ones
/// before), checking each against its type.
pub fn constants(defs: &[ConstDef], errors: &mut Vec<syn::Error>) -> Constants {
    let mut consts: Constants = Vec::new();
    for def in defs {
        let scope = Scope {
            consts: consts.clone(),
            ..Scope::default()
        };
        let kind = ParamKind {
            item: def.kind,
            list: false,
        };
        let value = match arg_value(&def.value, &scope) {
            Ok(v) => match kind.accept(&v) {
                Some(v) => v,
                None => {
                    errors.push(syn::Error::new_spanned(
                        &def.value,
                        format!(
                            "constant `{}: {}` must be {}, found `{v}`",
                            def.name.unraw(),
                            def.ty,
                            kind.expects()
                        ),
                    ));
                    continue;
                }
            },
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if consts.iter().any(|(n, _)| def.name.unraw() == n) {
            errors.push(syn::Error::new_spanned(
                &def.name,
                format!("constant `{}` is defined twice", def.name.unraw()),
            ));
        }
        consts.push((def.name.unraw().to_string(), value));
    }
    consts
}

impl Scope {
    fn kind(&self, name: &str) -> Option<ParamKind> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, k)| *k)
    }

    /// A constant of the block (a parameter of the same name hides it).
    fn constant(&self, name: &str) -> Option<&ArgValue> {
        if self.kind(name).is_some() {
            return None;
        }
        self.consts.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn names(&self) -> String {
        self.params
            .iter()
            .map(|(n, _)| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A model's parameters, with their defaults read as values.
fn params(def: &ModelDef, consts: &Constants, errors: &mut Vec<syn::Error>) -> Vec<ParamSpec> {
    let scope = Scope {
        consts: consts.clone(),
        ..Scope::default()
    };
    def.params
        .iter()
        .map(|p| {
            let default = p.default.as_ref().and_then(|d| {
                let value = match arg_value(d, &scope) {
                    Ok(v) => v,
                    Err(e) => {
                        errors.push(e);
                        return None;
                    }
                };
                match p.kind.accept(&value) {
                    Some(v) => Some(v),
                    None => {
                        errors.push(syn::Error::new_spanned(
                            d,
                            format!(
                                "the default of parameter `{}: {}` must be {}, found `{value}`",
                                p.name.unraw(),
                                p.kind,
                                p.kind.expects()
                            ),
                        ));
                        None
                    }
                }
            });
            ParamSpec {
                name: text(&p.name),
                kind: p.kind,
                default,
            }
        })
        .collect()
}

pub fn from_ast(def: &ModelDef, consts: &Constants, errors: &mut Vec<syn::Error>) -> ModelIr {
    let params = params(def, consts, errors);
    let scope = Scope {
        params: params
            .iter()
            .map(|p| (p.name.to_string(), p.kind))
            .collect(),
        consts: consts.clone(),
        values: operand::values(def),
    };
    let scope = &scope;
    let mut inputs = Vec::new();
    let mut input_tokens = Vec::new();
    let mut nodes: Vec<NodeSpec> = Vec::new();
    let mut node_tokens: Vec<NodeTokens> = Vec::new();
    let mut outputs = Vec::new();
    let mut output_tokens = Vec::new();
    let mut output_statements = 0;
    let mut shares = Vec::new();
    let mut share_tokens = Vec::new();
    let mut loops: Vec<LoopSpec> = Vec::new();
    let mut loop_tokens: Vec<TokenStream> = Vec::new();

    if let Some(call) = &def.instance {
        push_node(
            call,
            Vec::new(),
            Vec::new(),
            scope,
            &mut nodes,
            &mut node_tokens,
            errors,
        );
    }
    for stmt in &def.stmts {
        match stmt {
            Stmt::Input(decls) => {
                for decl in decls {
                    let dims: Vec<DimSpec> =
                        decl.dims.iter().map(|d| dim(d, scope, errors)).collect();
                    if dims.is_empty() {
                        errors.push(syn::Error::new(
                            decl.span,
                            format!("input `{}` needs at least one dimension", decl.name),
                        ));
                    }
                    inputs.push(InputSpec {
                        name: text(&decl.name),
                        dims: dims.into(),
                        differentiable: decl.differentiable,
                    });
                    input_tokens.push(decl.name.clone());
                }
            }
            Stmt::Buffer(decls) => {
                for decl in decls {
                    push_buffer(decl, scope, &mut nodes, &mut node_tokens, errors);
                }
            }
            Stmt::Output(keyword, names) => {
                output_statements += 1;
                if output_statements == 2 {
                    errors.push(syn::Error::new_spanned(
                        keyword,
                        "a model has one `output` statement; list every output in it",
                    ));
                }
                for n in names {
                    outputs.push(text(n));
                    output_tokens.push(n.clone());
                }
            }
            Stmt::Share(share) => {
                shares.push(ShareSpec {
                    target: Cow::Owned(share.target.dotted()),
                    source: Cow::Owned(share.source.dotted()),
                });
                share_tokens.push((share.target.tokens.clone(), share.source.tokens.clone()));
            }
            Stmt::Flow(flow) => {
                let mut previous: Option<(usize, TokenStream)> = None;
                let mut first_input: Option<&Ident> = None;
                match &flow.head {
                    Head::Value(v) => first_input = Some(v),
                    Head::Apply(call) => {
                        let (ins, toks) = operands(&call.inputs, scope, errors);
                        let index =
                            push_node(call, ins, toks, scope, &mut nodes, &mut node_tokens, errors);
                        previous = Some((index, node_tokens[index].call.clone()));
                    }
                }
                // Each stage, with the loop it belongs to (its index and scope).
                let mut stages: Vec<(&Call, Option<usize>)> = Vec::new();
                let mut loop_scopes: Vec<Scope> = Vec::new();
                for stage in &flow.stages {
                    match stage {
                        Stage::Call(call) => stages.push((call, None)),
                        Stage::Loop(each) => {
                            let mut inner = scope.clone();
                            inner.params.retain(|(n, _)| each.var.unraw() != n);
                            inner.params.push((
                                each.var.unraw().to_string(),
                                ParamKind {
                                    item: ParamType::I64,
                                    list: false,
                                },
                            ));
                            loop_scopes.push(inner);
                            let l = loop_scopes.len() - 1;
                            stages.extend(each.body.iter().map(|c| (c, Some(l))));
                        }
                    }
                }
                let loops_of_flow: Vec<&crate::ast::Loop> = flow
                    .stages
                    .iter()
                    .filter_map(|s| match s {
                        Stage::Loop(l) => Some(&**l),
                        Stage::Call(_) => None,
                    })
                    .collect();
                let mut current_loop: Option<usize> = None;
                for (stage, in_loop) in stages {
                    let outer = scope;
                    let scope = match in_loop {
                        Some(l) => &loop_scopes[l],
                        None => scope,
                    };
                    if in_loop.is_some() && in_loop != current_loop {
                        let each = loops_of_flow[in_loop.unwrap_or_default()];
                        let mut bound = |e: &Expr| match expression(e, outer) {
                            Ok(Folded::Expr(tokens)) => tokens,
                            Ok(Folded::Value(v)) => vec![ExprTok::Value(v)],
                            Err(err) => {
                                errors.push(err);
                                vec![ExprTok::Value(ArgValue::Int(0))]
                            }
                        };
                        loops.push(LoopSpec {
                            var: text(&each.var),
                            start: bound(&each.start).into(),
                            end: bound(&each.end).into(),
                            first: nodes.len(),
                            len: each.body.len(),
                        });
                        loop_tokens.push(each.header.clone());
                    }
                    current_loop = in_loop;
                    if in_loop.is_some()
                        && let Some(n) = &stage.repeat
                    {
                        errors.push(syn::Error::new_spanned(
                            n,
                            "a layer inside a loop is applied once per index; repeat it with a loop of its own or a nested model",
                        ));
                    }
                    let (mut ins, mut toks) = match (&previous, first_input) {
                        (Some((j, toks)), _) => (vec![ValueRef::Node(*j)], vec![toks.clone()]),
                        (None, Some(v)) => {
                            (vec![ValueRef::Named(text(v))], vec![v.to_token_stream()])
                        }
                        // The parser gives every flow a head.
                        (None, None) => (Vec::new(), Vec::new()),
                    };
                    // `-> Multiply(0.5)`: numbers after the previous value.
                    let (numbers, number_tokens) = operands(&stage.inputs, scope, errors);
                    ins.extend(numbers);
                    toks.extend(number_tokens);
                    let index = push_node(
                        stage,
                        ins,
                        toks,
                        scope,
                        &mut nodes,
                        &mut node_tokens,
                        errors,
                    );
                    previous = Some((index, node_tokens[index].call.clone()));
                }
                if let Some((last, _)) = previous {
                    match &flow.target {
                        Target::Name(name) => {
                            nodes[last].output = Some(text(name));
                            node_tokens[last].output = Some(name.clone());
                        }
                        Target::Outputs(pairs) => {
                            nodes[last].bindings = pairs
                                .iter()
                                .map(|(output, value)| Binding {
                                    output: text(output),
                                    value: text(value),
                                })
                                .collect::<Vec<_>>()
                                .into();
                            node_tokens[last].bindings = pairs
                                .iter()
                                .map(|(output, value)| match output == value {
                                    true => output.to_token_stream(),
                                    false => quote::quote!(#output: #value),
                                })
                                .collect();
                        }
                    }
                }
            }
        }
    }

    ModelIr {
        spec: ModelSpec {
            name: text(&def.name),
            params: params.into(),
            inputs: inputs.into(),
            nodes: nodes.into(),
            outputs: outputs.into(),
            shares: shares.into(),
            loops: loops.into(),
        },
        name: def.name.clone(),
        inputs: input_tokens,
        nodes: node_tokens,
        outputs: output_tokens,
        shares: share_tokens,
        loops: loop_tokens,
        instance: def.instance.is_some(),
    }
}

/// A call's operands as value references, with their tokens: a parameter
/// or an expression of parameters is a number.
fn operands(
    operands: &[Operand],
    scope: &Scope,
    errors: &mut Vec<syn::Error>,
) -> (Vec<ValueRef>, Vec<TokenStream>) {
    operands
        .iter()
        .map(|o| match o {
            Operand::Value(v) if let Some(c) = scope.constant(&v.unraw().to_string()) => {
                let value = match c {
                    ArgValue::Int(n) => ValueRef::Literal(Scalar::new(*n as f64)),
                    ArgValue::Float(x) => ValueRef::Literal(Scalar::new(*x)),
                    other => {
                        errors.push(syn::Error::new_spanned(
                            v,
                            format!("constant `{v}` is `{other}`, not a number"),
                        ));
                        ValueRef::Literal(Scalar::new(0.0))
                    }
                };
                (value, v.to_token_stream())
            }
            Operand::Value(v) if scope.kind(&v.unraw().to_string()).is_some() => (
                ValueRef::Expr(vec![ExprTok::Param(text(v))].into()),
                v.to_token_stream(),
            ),
            Operand::Value(v) => (ValueRef::Named(text(v)), v.to_token_stream()),
            Operand::Literal(n) => (ValueRef::Literal(Scalar::new(n.value)), n.tokens.clone()),
            Operand::Expr(e) => {
                if let Some(mistake) = operand::mistake(e, scope) {
                    errors.push(mistake);
                    return (ValueRef::Literal(Scalar::new(0.0)), e.to_token_stream());
                }
                let value = match expression(e, scope) {
                    Ok(Folded::Value(ArgValue::Int(n))) => ValueRef::Literal(Scalar::new(n as f64)),
                    Ok(Folded::Value(ArgValue::Float(x))) => ValueRef::Literal(Scalar::new(x)),
                    Ok(Folded::Value(other)) => {
                        errors.push(syn::Error::new_spanned(
                            e,
                            format!("an operand is a value name or a number, found `{other}`"),
                        ));
                        ValueRef::Literal(Scalar::new(0.0))
                    }
                    Ok(Folded::Expr(tokens)) => ValueRef::Expr(tokens.into()),
                    Err(err) => {
                        errors.push(err);
                        ValueRef::Literal(Scalar::new(0.0))
                    }
                };
                (value, e.to_token_stream())
            }
        })
        .unzip()
}

/// An expression, evaluated now when it reads no parameter.
enum Folded {
    Value(ArgValue),
    Expr(Vec<ExprTok>),
}

/// Compiles an expression of the model's parameters; one that reads none
/// is evaluated here, and its errors are at its tokens.
fn expression(expr: &Expr, scope: &Scope) -> syn::Result<Folded> {
    let mut tokens = Vec::new();
    compile(expr, scope, &mut tokens)?;
    if family::expr::params_of(&tokens).next().is_some() {
        return Ok(Folded::Expr(tokens));
    }
    family::expr::eval(&tokens, &|_| None)
        .map(Folded::Value)
        .map_err(|message| syn::Error::new_spanned(expr, message))
}

/// Appends an expression's steps in postfix order.
fn compile(expr: &Expr, scope: &Scope, out: &mut Vec<ExprTok>) -> syn::Result<()> {
    match expr {
        Expr::Lit(_) => out.push(ExprTok::Value(arg_value(expr, &Scope::default())?)),
        Expr::Paren(p) => compile(&p.expr, scope, out)?,
        Expr::Group(g) => compile(&g.expr, scope, out)?,
        Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
            let id = p
                .path
                .get_ident()
                .map(|i| i.unraw().to_string())
                .unwrap_or_default();
            if scope.kind(&id).is_some() {
                out.push(ExprTok::Param(Cow::Owned(id)));
            } else if let Some(v) = scope.constant(&id) {
                out.push(ExprTok::Value(v.clone()));
            } else {
                let known = match scope.params.is_empty() {
                    true => "this model has no parameters".to_string(),
                    false => format!("this model's parameters are {}", scope.names()),
                };
                return Err(syn::Error::new_spanned(
                    expr,
                    format!(
                        "unknown parameter `{id}` in an expression; {known} (a Rust constant cannot be read here, since the macro reads the model while the crate compiles, before constants have values; declare it in the `model!` block instead, as in `const {id}: usize = 768;`)"
                    ),
                ));
            }
        }
        Expr::Binary(b) => {
            let op = match b.op {
                syn::BinOp::Add(_) => family::BinaryOp::Add,
                syn::BinOp::Sub(_) => family::BinaryOp::Sub,
                syn::BinOp::Mul(_) => family::BinaryOp::Mul,
                syn::BinOp::Div(_) => family::BinaryOp::Div,
                syn::BinOp::Rem(_) => family::BinaryOp::Rem,
                _ => {
                    return Err(syn::Error::new_spanned(
                        b.op,
                        "an expression uses `+`, `-`, `*`, `/` and `%`",
                    ));
                }
            };
            compile(&b.left, scope, out)?;
            compile(&b.right, scope, out)?;
            out.push(ExprTok::Binary(op));
        }
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => {
            compile(&u.expr, scope, out)?;
            out.push(ExprTok::Neg);
        }
        Expr::Call(c) => {
            let name = match &*c.func {
                Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
                _ => None,
            };
            let Some(f) = name.as_deref().and_then(Func::named) else {
                return Err(syn::Error::new_spanned(
                    &c.func,
                    "an expression calls `min`, `max`, `pow` or `len`",
                ));
            };
            if c.args.len() != f.arity() {
                return Err(syn::Error::new_spanned(
                    c,
                    format!(
                        "`{}` takes {} argument(s), found {}",
                        f.name(),
                        f.arity(),
                        c.args.len()
                    ),
                ));
            }
            for a in &c.args {
                compile(a, scope, out)?;
            }
            out.push(ExprTok::Call(f, c.args.len()));
        }
        Expr::Index(i) => {
            compile(&i.expr, scope, out)?;
            compile(&i.index, scope, out)?;
            out.push(ExprTok::Index);
        }
        Expr::Array(a) => {
            for item in &a.elems {
                compile(item, scope, out)?;
            }
            out.push(ExprTok::List(a.elems.len()));
        }
        Expr::Tuple(t) => {
            for item in &t.elems {
                compile(item, scope, out)?;
            }
            out.push(ExprTok::Tuple(t.elems.len()));
        }
        other => {
            return Err(syn::Error::new_spanned(
                other,
                format!(
                    "unsupported expression `{}`: an expression combines numbers and the model's parameters with `+ - * / %`, `min`, `max`, `pow`, `len` and indexing",
                    other.to_token_stream()
                ),
            ));
        }
    }
    Ok(())
}

/// `buffer centers: [8, 2] = 0.5` as a node of the `Buffer` layer named
/// after the buffer and defining the value of that name: its shape and
/// fill are the layer's arguments.
fn push_buffer(
    decl: &BufferDecl,
    scope: &Scope,
    nodes: &mut Vec<NodeSpec>,
    tokens: &mut Vec<NodeTokens>,
    errors: &mut Vec<syn::Error>,
) {
    let dims = decl
        .dims
        .iter()
        .map(|d| match dim(d, scope, errors) {
            DimSpec::Lit(n) => ArgValue::Int(n as i64),
            DimSpec::Sym(s) => ArgValue::Ident(s),
            DimSpec::Expr(e) => ArgValue::Expr(e),
        })
        .collect::<Vec<_>>();
    let mut args = vec![ArgSpec {
        name: Some(Cow::Borrowed("shape")),
        value: ArgValue::List(dims.into()),
    }];
    let mut arg_tokens = vec![decl.shape.clone()];
    if let Some(fill) = &decl.fill {
        args.push(ArgSpec {
            name: Some(Cow::Borrowed("fill")),
            value: ArgValue::Float(fill.value),
        });
        arg_tokens.push(fill.tokens.clone());
    }
    let layer = Ident::new(Buffer::NAME, decl.name.span());
    nodes.push(NodeSpec {
        name: Some(text(&decl.name)),
        layer: Cow::Borrowed(Buffer::NAME),
        choice: None,
        args: args.into(),
        inputs: Cow::Borrowed(&[]),
        output: Some(text(&decl.name)),
        bindings: Cow::Borrowed(&[]),
        repeat: 1,
        repeat_expr: None,
        checkpoint: false,
    });
    tokens.push(NodeTokens {
        call: decl.tokens.clone(),
        name: Some(decl.name.clone()),
        layer: layer.into(),
        args: arg_tokens,
        inputs: Vec::new(),
        output: Some(decl.name.clone()),
        bindings: Vec::new(),
        repeat: None,
        function: None,
    });
}

/// A declared dimension; a size outside `1..=MAX_SIZE` is reported here, at
/// the literal, and replaced by 1.
fn dim(d: &DimTok, scope: &Scope, errors: &mut Vec<syn::Error>) -> DimSpec {
    match d {
        DimTok::Sym(s) if scope.kind(&s.unraw().to_string()).is_some() => {
            DimSpec::Expr(vec![ExprTok::Param(text(s))].into())
        }
        DimTok::Sym(s) if scope.constant(&s.unraw().to_string()).is_some() => {
            let e: Expr = syn::parse_quote!(#s);
            dim(&DimTok::Expr(e), scope, errors)
        }
        DimTok::Sym(s) => DimSpec::Sym(text(s)),
        DimTok::Expr(e) => match expression(e, scope) {
            Ok(Folded::Expr(tokens)) => DimSpec::Expr(tokens.into()),
            Ok(Folded::Value(ArgValue::Int(n))) if n >= 1 && n as u64 <= MAX_SIZE as u64 => {
                DimSpec::Lit(n as usize)
            }
            Ok(Folded::Value(v)) => {
                errors.push(syn::Error::new_spanned(
                    e,
                    format!(
                        "dimension `{}` is {v}; a dimension is a positive integer up to {MAX_SIZE}",
                        e.to_token_stream().to_string().replace(' ', "")
                    ),
                ));
                DimSpec::Lit(1)
            }
            Err(err) => {
                errors.push(err);
                DimSpec::Lit(1)
            }
        },
        DimTok::Lit(n) => match n.base10_parse::<u64>() {
            Ok(v) if (1..=MAX_SIZE as u64).contains(&v) => DimSpec::Lit(v as usize),
            _ => {
                errors.push(syn::Error::new_spanned(
                    n,
                    size_out_of_range(n.base10_digits()),
                ));
                DimSpec::Lit(1)
            }
        },
    }
}

pub fn push_node(
    call: &Call,
    inputs: Vec<ValueRef>,
    input_tokens: Vec<TokenStream>,
    scope: &Scope,
    nodes: &mut Vec<NodeSpec>,
    tokens: &mut Vec<NodeTokens>,
    errors: &mut Vec<syn::Error>,
) -> usize {
    let generic = call.layer.segments.iter().find(|s| !s.arguments.is_none());
    if let Some(segment) = generic {
        errors.push(syn::Error::new_spanned(
            &segment.arguments,
            "a layer is named without generic arguments: a built-in layer (`Linear`) or a model (`Block`, `zoo::Block`)",
        ));
    }
    if !is_model_path(&call.layer) {
        errors.push(syn::Error::new_spanned(
            &call.layer,
            format!(
                "expected a layer or a model, found `{}`; a model is named by its name or path, such as `Block` or `blocks::Block`",
                call.layer.to_token_stream().to_string().replace(' ', "")
            ),
        ));
    }
    let mut layer = path_key(&call.layer);
    let mut choice = None;
    // A layer parameter (`-> act`, `-> acts[i]`) applies the layer its
    // value names.
    if let Some(kind) = scope.kind(&layer)
        && call.layer.get_ident().is_some()
    {
        let param = ExprTok::Param(Cow::Owned(layer.clone()));
        match (&call.index, kind.item == ParamType::Layer, kind.list) {
            (None, true, false) => choice = Some(vec![param]),
            (Some(index), true, true) => {
                let mut tokens = vec![param];
                match expression(index, scope) {
                    Ok(Folded::Expr(e)) => tokens.extend(e),
                    Ok(Folded::Value(v)) => tokens.push(ExprTok::Value(v)),
                    Err(e) => errors.push(e),
                }
                tokens.push(ExprTok::Index);
                choice = Some(tokens);
            }
            (None, true, true) => errors.push(syn::Error::new_spanned(
                &call.layer,
                format!("parameter `{layer}: {kind}` is a list of layers; apply one of them, as in `{layer}[i]`"),
            )),
            _ => errors.push(syn::Error::new_spanned(
                &call.layer,
                format!("parameter `{layer}: {kind}` is used as a layer; a layer parameter has type `Layer` or `[Layer]`"),
            )),
        }
        if let Some(e) = &choice {
            layer = format!("{LAYER_PARAM}{}", family::expr::display(e));
        }
    } else if let Some(index) = &call.index {
        errors.push(syn::Error::new_spanned(
            index,
            format!("`{layer}` is no parameter of this model; only a `[Layer]` parameter is indexed to choose a layer"),
        ));
    }
    let function_slot = function_arg(&call.layer);
    let mut args = Vec::new();
    let mut arg_tokens = Vec::new();
    let mut function = None;
    for (position, arg) in call.args.iter().enumerate() {
        let is_function = function_slot.is_some_and(|(name, index)| match &arg.name {
            None => position == index,
            Some(n) => n.unraw() == name,
        });
        let value = if is_function {
            // A path, however it is written: `f`, `(f)`, `ops::f`.
            match function_path(&arg.value) {
                Some(path) => {
                    let key = path_key(path);
                    function = Some(path.clone());
                    match path.get_ident() {
                        Some(_) => ArgValue::Ident(Cow::Owned(key)),
                        None => ArgValue::Path(Cow::Owned(key)),
                    }
                }
                // Not a path: the rule reports what it expected.
                None => arg_value(&arg.value, scope).unwrap_or_else(|e| {
                    errors.push(e);
                    ArgValue::Int(0)
                }),
            }
        } else {
            arg_value(&arg.value, scope).unwrap_or_else(|e| {
                errors.push(e);
                ArgValue::Int(0)
            })
        };
        args.push(ArgSpec {
            name: arg.name.as_ref().map(text),
            value,
        });
        arg_tokens.push(match &arg.name {
            Some(n) => {
                let v = &arg.value;
                quote::quote!(#n = #v)
            }
            None => arg.value.to_token_stream(),
        });
    }
    let mut repeat_expr = None;
    let repeat = match call.repeat.as_deref() {
        None => 1,
        Some(Expr::Lit(syn::ExprLit {
            lit: Lit::Int(n), ..
        })) => match n.base10_parse::<usize>() {
            Ok(v) if (1..=MAX_REPEAT).contains(&v) => v,
            _ => {
                errors.push(syn::Error::new_spanned(
                    n,
                    repeat_out_of_range(n.base10_digits()),
                ));
                1
            }
        },
        Some(e) => match expression(e, scope) {
            Ok(Folded::Expr(tokens)) => {
                repeat_expr = Some(tokens.into());
                1
            }
            Ok(Folded::Value(ArgValue::Int(v))) if (1..=MAX_REPEAT as i64).contains(&v) => {
                v as usize
            }
            Ok(Folded::Value(v)) => {
                errors.push(syn::Error::new_spanned(
                    e,
                    repeat_out_of_range(&v.to_string()),
                ));
                1
            }
            Err(err) => {
                errors.push(err);
                1
            }
        },
    };
    nodes.push(NodeSpec {
        name: call.name.as_ref().map(text),
        layer: Cow::Owned(layer),
        choice: choice.map(Into::into),
        args: args.into(),
        inputs: inputs.into(),
        output: None,
        bindings: Cow::Borrowed(&[]),
        repeat,
        repeat_expr,
        checkpoint: call.checkpoint.is_some(),
    });
    tokens.push(NodeTokens {
        call: call.tokens.clone(),
        name: call.name.clone(),
        layer: call.layer.clone(),
        args: arg_tokens,
        inputs: input_tokens,
        output: None,
        bindings: Vec::new(),
        // `Linear(32) * 3`: errors about the repeat point at the whole call.
        repeat: call.repeat.as_ref().map(|n| {
            let call = &call.tokens;
            quote::quote!(#call * #n)
        }),
        function,
    });
    nodes.len() - 1
}

/// The argument of a built-in layer that names a Rust function (a custom
/// op), with its position: the fact is on the layer's rule.
fn function_arg(layer: &Path) -> Option<(&'static str, usize)> {
    let info = mithril_core::layers::info(&layer.get_ident()?.unraw().to_string())?;
    let name = info.function_arg?;
    let index = info.args.iter().position(|a| a.name == name)?;
    Some((name, index))
}

/// The path in `f`, `(f)`, `((ops::f))`; `None` for anything else.
fn function_path(expr: &Expr) -> Option<&Path> {
    match expr {
        Expr::Paren(p) => function_path(&p.expr),
        Expr::Group(g) => function_path(&g.expr),
        Expr::Path(p) if p.qself.is_none() => Some(&p.path),
        _ => None,
    }
}

/// A layer argument: literals, `-1`, words, paths, tuples and shape lists,
/// and expressions of the model's parameters.
fn arg_value(expr: &Expr, scope: &Scope) -> syn::Result<ArgValue> {
    let arithmetic = matches!(expr, Expr::Binary(_) | Expr::Call(_) | Expr::Index(_))
        || matches!(expr, Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) && !matches!(&*u.expr, Expr::Lit(_)));
    let parameter = matches!(expr, Expr::Path(p) if p.path.get_ident().is_some_and(|i| {
        let name = i.unraw().to_string();
        scope.kind(&name).is_some() || scope.constant(&name).is_some()
    }));
    if arithmetic || parameter {
        return Ok(match expression(expr, scope)? {
            Folded::Value(v) => v,
            Folded::Expr(tokens) => ArgValue::Expr(tokens.into()),
        });
    }
    Ok(match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Int(n) => match n.base10_parse::<i64>() {
                Ok(v) => ArgValue::Int(v),
                // Too large for any argument; the argument's range check
                // names it and quotes the literal.
                Err(_) => ArgValue::Overflow(Cow::Owned(n.base10_digits().to_string())),
            },
            Lit::Float(x) => match x.base10_parse::<f64>() {
                Ok(v) if v.is_finite() => ArgValue::Float(v),
                _ => ArgValue::Overflow(Cow::Owned(x.base10_digits().to_string())),
            },
            Lit::Bool(b) => ArgValue::Bool(b.value),
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    format!(
                        "unsupported literal `{}`; layer arguments are numbers, `true`/`false`, words, tuples or shapes",
                        other.to_token_stream()
                    ),
                ));
            }
        },
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match arg_value(&u.expr, scope)? {
            ArgValue::Int(n) => ArgValue::Int(-n),
            ArgValue::Float(x) => ArgValue::Float(-x),
            ArgValue::Overflow(text) => ArgValue::Overflow(Cow::Owned(format!("-{text}"))),
            _ => return Err(syn::Error::new_spanned(expr, "only numbers can be negated")),
        },
        Expr::Path(p) if p.qself.is_none() => match p.path.get_ident() {
            Some(id) => ArgValue::Ident(text(id)),
            None => ArgValue::Path(Cow::Owned(path_key(&p.path))),
        },
        Expr::Tuple(t) => ArgValue::Tuple(
            t.elems
                .iter()
                .map(|e| arg_value(e, scope))
                .collect::<syn::Result<Vec<_>>>()?
                .into(),
        ),
        Expr::Paren(p) => arg_value(&p.expr, scope)?,
        Expr::Group(g) => arg_value(&g.expr, scope)?,
        Expr::Array(a) => ArgValue::List(
            a.elems
                .iter()
                .map(|e| arg_value(e, scope))
                .collect::<syn::Result<Vec<_>>>()?
                .into(),
        ),
        other => {
            return Err(syn::Error::new_spanned(
                other,
                format!(
                    "unsupported layer argument `{}`: the macro reads arguments while the crate compiles, before Rust expressions and constants have values; use a literal (`128`, `0.1`, `true`), a word (`same`), a tuple `(3, 3)`, a shape `[B, 10]` or a function path",
                    other.to_token_stream()
                ),
            ));
        }
    })
}

/// Whether `path` can name a layer or a model as Rust names an item: `Self`
/// nowhere, `crate` and `self` only first, `super` only after `self` or
/// `super`, and a name last.
fn is_model_path(path: &syn::Path) -> bool {
    let words: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let keyword = |w: &str| matches!(w, "self" | "Self" | "super" | "crate");
    words.last().is_some_and(|last| !keyword(last))
        && words
            .iter()
            .enumerate()
            .all(|(i, word)| match word.as_str() {
                "Self" => false,
                "crate" | "self" => i == 0 && path.leading_colon.is_none(),
                "super" => {
                    path.leading_colon.is_none()
                        && words[..i].iter().all(|w| w == "self" || w == "super")
                }
                _ => true,
            })
}

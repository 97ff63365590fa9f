//! From the syntax tree to mithril-core's [`ModelSpec`], remembering which
//! tokens each part came from so core's errors can point at them.

use std::borrow::Cow;

use mithril_core::args::{ArgSpec, ArgValue};
use mithril_core::graph::{DimSpec, InputSpec, ModelSpec, NodeSpec, Site, ValueRef};
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Expr, Ident, Lit, Path, UnOp};

use crate::ast::{Call, DimTok, Head, ModelDef, Stmt};

/// A model's spec and the tokens behind each of its sites.
pub struct Lowered {
    pub spec: ModelSpec,
    pub name: Ident,
    pub inputs: Vec<Ident>,
    pub nodes: Vec<NodeTokens>,
    pub outputs: Vec<Ident>,
}

pub struct NodeTokens {
    pub call: TokenStream,
    pub args: Vec<TokenStream>,
    pub inputs: Vec<TokenStream>,
    pub output: Option<Ident>,
    pub repeat: Option<TokenStream>,
    /// The function of a `Lambda`, for code generation.
    pub function: Option<Path>,
}

impl Lowered {
    /// The tokens to underline for a site.
    pub fn tokens(&self, site: Site) -> TokenStream {
        match site {
            Site::Model => self.name.to_token_stream(),
            Site::Input(i) => self.inputs[i].to_token_stream(),
            Site::Node(i) => self.nodes[i].call.clone(),
            Site::NodeArg { node, arg } => self.nodes[node].args[arg].clone(),
            Site::NodeInput { node, input } => self.nodes[node].inputs[input].clone(),
            Site::NodeOutput(i) => self.nodes[i].output.to_token_stream(),
            Site::NodeRepeat(i) => self.nodes[i]
                .repeat
                .clone()
                .unwrap_or_else(|| self.nodes[i].call.clone()),
            Site::Output(i) => self.outputs[i].to_token_stream(),
        }
    }
}

fn text(ident: &Ident) -> Cow<'static, str> {
    Cow::Owned(ident.to_string())
}

pub fn lower(def: &ModelDef, errors: &mut Vec<syn::Error>) -> Lowered {
    let mut inputs = Vec::new();
    let mut input_tokens = Vec::new();
    let mut nodes: Vec<NodeSpec> = Vec::new();
    let mut node_tokens: Vec<NodeTokens> = Vec::new();
    let mut outputs = Vec::new();
    let mut output_tokens = Vec::new();
    let mut output_statements = 0;

    for stmt in &def.stmts {
        match stmt {
            Stmt::Input(decls) => {
                for decl in decls {
                    let mut dims = Vec::new();
                    for d in &decl.dims {
                        dims.push(match d {
                            DimTok::Sym(s) => DimSpec::Sym(text(s)),
                            DimTok::Lit(n) => match n.base10_parse::<usize>() {
                                Ok(v) if v > 0 => DimSpec::Lit(v),
                                _ => {
                                    errors.push(syn::Error::new_spanned(
                                        n,
                                        format!("a dimension must be a positive integer or a symbol such as `B`, found `{n}`"),
                                    ));
                                    DimSpec::Lit(1)
                                }
                            },
                        });
                    }
                    if dims.is_empty() {
                        errors.push(syn::Error::new(
                            decl.span,
                            format!("input `{}` needs at least one dimension", decl.name),
                        ));
                    }
                    inputs.push(InputSpec {
                        name: text(&decl.name),
                        dims: dims.into(),
                    });
                    input_tokens.push(decl.name.clone());
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
            Stmt::Flow(flow) => {
                let mut previous: Option<(usize, TokenStream)> = None;
                let mut first_input: Option<Ident> = None;
                match &flow.head {
                    Head::Value(v) => first_input = Some(v.clone()),
                    Head::Apply(call) => {
                        let ins: Vec<ValueRef> = call
                            .inputs
                            .iter()
                            .map(|i| ValueRef::Named(text(i)))
                            .collect();
                        let toks = call.inputs.iter().map(ToTokens::to_token_stream).collect();
                        let index =
                            push_node(call, ins, toks, &mut nodes, &mut node_tokens, errors);
                        previous = Some((index, node_tokens[index].call.clone()));
                    }
                }
                for stage in &flow.stages {
                    let (ins, toks) = match (&previous, &first_input) {
                        (Some((j, toks)), _) => (vec![ValueRef::Node(*j)], vec![toks.clone()]),
                        (None, Some(v)) => {
                            (vec![ValueRef::Named(text(v))], vec![v.to_token_stream()])
                        }
                        (None, None) => unreachable!("a flow starts with a value or a call"),
                    };
                    let index = push_node(stage, ins, toks, &mut nodes, &mut node_tokens, errors);
                    previous = Some((index, node_tokens[index].call.clone()));
                }
                if let Some((last, _)) = previous {
                    nodes[last].output = Some(text(&flow.target));
                    node_tokens[last].output = Some(flow.target.clone());
                }
            }
        }
    }

    Lowered {
        spec: ModelSpec {
            name: text(&def.name),
            inputs: inputs.into(),
            nodes: nodes.into(),
            outputs: outputs.into(),
        },
        name: def.name.clone(),
        inputs: input_tokens,
        nodes: node_tokens,
        outputs: output_tokens,
    }
}

fn push_node(
    call: &Call,
    inputs: Vec<ValueRef>,
    input_tokens: Vec<TokenStream>,
    nodes: &mut Vec<NodeSpec>,
    tokens: &mut Vec<NodeTokens>,
    errors: &mut Vec<syn::Error>,
) -> usize {
    let layer_name = call
        .layer
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    let mut args = Vec::new();
    let mut arg_tokens = Vec::new();
    let mut function = None;
    for arg in &call.args {
        let value = match arg_value(&arg.value) {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                ArgValue::Int(0)
            }
        };
        let function_arg = match &arg.name {
            None => function.is_none(),
            Some(n) => n == "function",
        };
        if layer_name == "Lambda"
            && function_arg
            && let Expr::Path(p) = &arg.value
        {
            function = Some(p.path.clone());
        }
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
    let repeat = match &call.repeat {
        None => 1,
        Some(n) => n.base10_parse::<usize>().unwrap_or_else(|e| {
            errors.push(syn::Error::new_spanned(n, format!("repeat count: {e}")));
            1
        }),
    };
    nodes.push(NodeSpec {
        name: call.name.as_ref().map(text),
        layer: Cow::Owned(layer_name),
        args: args.into(),
        inputs: inputs.into(),
        output: None,
        repeat,
    });
    tokens.push(NodeTokens {
        call: call.tokens.clone(),
        args: arg_tokens,
        inputs: input_tokens,
        output: None,
        // `Linear(32) * 3`: errors about the repeat point at the whole call.
        repeat: call.repeat.as_ref().map(|n| {
            let call = &call.tokens;
            quote::quote!(#call * #n)
        }),
        function,
    });
    nodes.len() - 1
}

/// A layer argument: literals, `-1`, words, paths, tuples and shape lists.
fn arg_value(expr: &Expr) -> syn::Result<ArgValue> {
    Ok(match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Int(n) => ArgValue::Int(n.base10_parse()?),
            Lit::Float(x) => ArgValue::Float(x.base10_parse()?),
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
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match arg_value(&u.expr)? {
            ArgValue::Int(n) => ArgValue::Int(-n),
            ArgValue::Float(x) => ArgValue::Float(-x),
            _ => return Err(syn::Error::new_spanned(expr, "only numbers can be negated")),
        },
        Expr::Path(p) if p.qself.is_none() => match p.path.get_ident() {
            Some(id) => ArgValue::Ident(Cow::Owned(id.to_string())),
            None => ArgValue::Path(Cow::Owned(
                p.path.to_token_stream().to_string().replace(' ', ""),
            )),
        },
        Expr::Tuple(t) => ArgValue::Tuple(
            t.elems
                .iter()
                .map(arg_value)
                .collect::<syn::Result<Vec<_>>>()?
                .into(),
        ),
        Expr::Paren(p) => arg_value(&p.expr)?,
        Expr::Array(a) => ArgValue::List(
            a.elems
                .iter()
                .map(arg_value)
                .collect::<syn::Result<Vec<_>>>()?
                .into(),
        ),
        other => {
            return Err(syn::Error::new_spanned(
                other,
                format!(
                    "unsupported layer argument `{}`: the macro reads arguments as written, without evaluating Rust expressions or constants; use a literal (`128`, `0.1`, `true`), a word (`same`), a tuple `(3, 3)`, a shape `[B, 10]` or a function path",
                    other.to_token_stream()
                ),
            ));
        }
    })
}

//! Syntax of `model!`: token streams to the [`crate::ast`] types.
//!
//! Statements are parsed one at a time so that one malformed statement does
//! not hide the errors of the others.

use proc_macro2::{TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, LitInt, Token, Visibility, braced, bracketed, parenthesized};

use crate::ast::{Arg, Call, DimTok, Flow, Head, InputDecl, ModelDef, Stmt};

/// Parses every model of the invocation, collecting statement errors.
pub fn models(input: TokenStream, errors: &mut Vec<syn::Error>) -> Vec<ModelDef> {
    match syn::parse2::<Models>(input) {
        Ok(Models(defs)) => defs
            .into_iter()
            .map(|raw| ModelDef {
                attrs: raw.attrs,
                vis: raw.vis,
                name: raw.name,
                stmts: statements(raw.body, errors),
            })
            .collect(),
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    }
}

struct RawModel {
    attrs: Vec<Attribute>,
    vis: Visibility,
    name: Ident,
    body: TokenStream,
}

struct Models(Vec<RawModel>);

impl Parse for Models {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut defs = Vec::new();
        while !input.is_empty() {
            let attrs = input.call(Attribute::parse_outer)?;
            let vis: Visibility = input.parse()?;
            let name: Ident = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected a model: `pub Name { input x: [B, 784]; ... }`",
                )
            })?;
            let content;
            braced!(content in input);
            defs.push(RawModel {
                attrs,
                vis,
                name,
                body: content.parse()?,
            });
        }
        Ok(Models(defs))
    }
}

/// Splits a model body at top-level `;` and parses each statement.
fn statements(body: TokenStream, errors: &mut Vec<syn::Error>) -> Vec<Stmt> {
    let mut stmts = Vec::new();
    let mut current = TokenStream::new();
    let flush = |tokens: TokenStream, stmts: &mut Vec<Stmt>, errors: &mut Vec<syn::Error>| {
        if tokens.is_empty() {
            return;
        }
        match syn::parse2::<Stmt>(tokens) {
            Ok(s) => stmts.push(s),
            Err(e) => errors.push(e),
        }
    };
    for tt in body {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ';' => {
                flush(std::mem::take(&mut current), &mut stmts, errors);
            }
            _ => current.extend([tt]),
        }
    }
    if !current.is_empty() {
        let last = current.clone().into_iter().last();
        errors.push(syn::Error::new_spanned(
            last,
            "expected `;` after this statement",
        ));
        flush(current, &mut stmts, errors);
    }
    stmts
}

fn is_keyword_decl(input: ParseStream, keyword: &str) -> bool {
    let fork = input.fork();
    matches!(fork.parse::<Ident>(), Ok(id) if id == keyword) && fork.peek(Ident)
}

impl Parse for Stmt {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if is_keyword_decl(input, "input") {
            input.parse::<Ident>()?;
            let decls = Punctuated::<InputDecl, Token![,]>::parse_separated_nonempty(input)?;
            expect_end(input)?;
            return Ok(Stmt::Input(decls.into_iter().collect()));
        }
        if is_keyword_decl(input, "output") {
            let keyword: Ident = input.parse()?;
            let names = Punctuated::<Ident, Token![,]>::parse_separated_nonempty(input)?;
            expect_end(input)?;
            return Ok(Stmt::Output(keyword, names.into_iter().collect()));
        }
        let flow: Flow = input.parse()?;
        expect_end(input)?;
        Ok(Stmt::Flow(flow))
    }
}

fn expect_end(input: ParseStream) -> syn::Result<()> {
    if input.is_empty() {
        Ok(())
    } else {
        Err(input.error("unexpected tokens; expected `;`"))
    }
}

impl Parse for InputDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected `:` and a shape after input `{name}`, as in `{name}: [B, 784]`"),
            )
        })?;
        let content;
        let bracket = bracketed!(content in input);
        let dims = Punctuated::<DimTok, Token![,]>::parse_terminated(&content)?;
        Ok(InputDecl {
            name,
            dims: dims.into_iter().collect(),
            span: bracket.span.join(),
        })
    }
}

impl Parse for DimTok {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitInt) {
            Ok(DimTok::Lit(input.parse()?))
        } else if input.peek(Ident) {
            Ok(DimTok::Sym(input.parse()?))
        } else {
            Err(input.error("expected a dimension: a size such as `784` or a symbol such as `B`"))
        }
    }
}

impl Parse for Flow {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let head = if input.peek(Ident)
            && !input.peek2(Token![:])
            && !input.peek2(syn::token::Paren)
            && !input.peek2(Token![::])
        {
            Head::Value(input.parse()?)
        } else {
            Head::Apply(parse_call(input, true)?)
        };
        let mut stages = Vec::new();
        while input.peek(Token![->]) {
            input.parse::<Token![->]>()?;
            stages.push(parse_call(input, false)?);
        }
        let arrow: Token![=>] = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `->` and a layer, or `=> name` to name the result",
            )
        })?;
        let target: Ident = input.parse()?;
        if let Head::Value(v) = &head {
            if stages.is_empty() {
                return Err(syn::Error::new_spanned(
                    quote::quote!(#v #arrow #target),
                    format!("`{v} => {target}` applies no layer; write `{v} -> Layer => {target}`"),
                ));
            }
        }
        Ok(Flow {
            head,
            stages,
            target,
        })
    }
}

/// `[name:] Layer[(args)][(inputs)] [* N]`. At the head of a flow the call
/// takes its inputs in parentheses: `Add(x, h)` or `Concat(axis = 1)(a, b)`.
fn parse_call(input: ParseStream, head: bool) -> syn::Result<Call> {
    let mut name = None;
    if input.peek(Ident) && input.peek2(Token![:]) && !input.peek2(Token![::]) {
        let n: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        name = Some(n);
    }
    let layer: syn::Path = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), "expected a layer, such as `Linear(128)`"))?;
    let mut groups = Vec::new();
    while input.peek(syn::token::Paren) && groups.len() < 2 {
        let content;
        parenthesized!(content in input);
        let tokens: TokenStream = content.parse()?;
        groups.push(tokens);
    }
    let mut repeat = None;
    if input.peek(Token![*]) {
        input.parse::<Token![*]>()?;
        repeat = Some(input.parse::<LitInt>()?);
    }
    let layer_name = layer
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    let (args, inputs) = match (head, groups.len()) {
        (_, 0) => (Vec::new(), None),
        (false, 1) => (args_of(groups.remove(0))?, None),
        (false, _) => {
            return Err(syn::Error::new_spanned(
                &layer,
                format!(
                    "`{layer_name}(..)(..)` gives inputs inside a pipeline; a stage takes the previous value as its input"
                ),
            ));
        }
        (true, 1) => {
            // One group at the head: inputs, unless the layer is a known
            // single-input layer (then it is its arguments and no input is given).
            let single = mithril_core::layers::info(&layer_name)
                .is_some_and(|l| l.inputs == mithril_core::layers::Arity::Exactly(1));
            if single {
                return Err(syn::Error::new_spanned(
                    &layer,
                    format!(
                        "`{layer_name}` needs an input: write `x -> {layer_name}(..)` or `{layer_name}(..)(x)`"
                    ),
                ));
            }
            (Vec::new(), Some(inputs_of(groups.remove(0))?))
        }
        (true, _) => {
            let inputs = inputs_of(groups.remove(1))?;
            (args_of(groups.remove(0))?, Some(inputs))
        }
    };
    if head && inputs.is_none() {
        return Err(syn::Error::new_spanned(
            &layer,
            format!("`{layer_name}` needs inputs: `{layer_name}(a, b)`"),
        ));
    }
    Ok(Call {
        name,
        layer,
        args,
        inputs: inputs.unwrap_or_default(),
        repeat,
    })
}

fn inputs_of(tokens: TokenStream) -> syn::Result<Vec<Ident>> {
    let names =
        syn::parse::Parser::parse2(Punctuated::<Ident, Token![,]>::parse_terminated, tokens)?;
    Ok(names.into_iter().collect())
}

fn args_of(tokens: TokenStream) -> syn::Result<Vec<Arg>> {
    let exprs =
        syn::parse::Parser::parse2(Punctuated::<Expr, Token![,]>::parse_terminated, tokens)?;
    exprs
        .into_iter()
        .map(|expr| match expr {
            Expr::Assign(assign) => match *assign.left {
                Expr::Path(p) if p.path.get_ident().is_some() => Ok(Arg {
                    name: p.path.get_ident().cloned(),
                    value: *assign.right,
                }),
                other => Err(syn::Error::new_spanned(
                    other,
                    "expected an argument name before `=`",
                )),
            },
            value => Ok(Arg { name: None, value }),
        })
        .collect()
}

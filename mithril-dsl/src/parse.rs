//! Syntax of `model!`: token streams to the [`crate::ast`] types.
//!
//! Statements are parsed one at a time so that one malformed statement does
//! not hide the errors of the others.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::buffer::Cursor;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, LitInt, Token, Visibility, braced, bracketed, parenthesized};

use quote::ToTokens;

use crate::ast::{
    Arg, BufferDecl, Call, ConstDef, DimTok, Flow, Head, InputDecl, ModelDef, Number, Operand,
    ParamDecl, ParamPath, Share, Stage, Stmt, Target,
};
use crate::nesting;

/// Parses every model (and `const` item) of the invocation, collecting
/// statement errors.
pub fn models(input: TokenStream, errors: &mut Vec<syn::Error>) -> (Vec<ModelDef>, Vec<ConstDef>) {
    // Attributes and visibilities are parsed whole, with syn; bodies are
    // measured statement by statement.
    for tree in input.clone() {
        if let TokenTree::Group(g) = tree
            && g.delimiter() != Delimiter::Brace
            && let Err(e) = nesting::check(&TokenTree::Group(g).into())
        {
            errors.push(e);
            return (Vec::new(), Vec::new());
        }
    }
    match syn::parse2::<Models>(input) {
        Ok(Models(raws, consts, const_tokens)) => {
            let defs = raws
                .into_iter()
                .map(|raw| {
                    let params = params_of(raw.header.clone(), errors);
                    let mut names: Vec<String> =
                        params.iter().map(|p| p.name.unraw().to_string()).collect();
                    names.extend(consts.iter().map(|c| c.name.unraw().to_string()));
                    ModelDef {
                        attrs: raw.attrs,
                        vis: raw.vis,
                        name: raw.name,
                        params,
                        header: raw.header,
                        instance: raw.instance,
                        consts: const_tokens.clone(),
                        stmts: statements(raw.body.clone(), &names, errors),
                        body: raw.body,
                    }
                })
                .collect();
            (defs, consts)
        }
        Err(e) => {
            errors.push(e);
            (Vec::new(), Vec::new())
        }
    }
}

/// An instance's call as written in its signature, `Gpt2(d = 768, ..)`.
pub fn instance_call(tokens: TokenStream) -> syn::Result<Call> {
    syn::parse::Parser::parse2(|input: ParseStream| parse_call(input, false, &[]), tokens)
}

/// The `const` items of a block as written (a signature's), parsed.
pub fn consts_of(tokens: TokenStream) -> syn::Result<Vec<ConstDef>> {
    syn::parse2::<Models>(tokens).map(|m| m.1)
}

struct RawModel {
    attrs: Vec<Attribute>,
    vis: Visibility,
    name: Ident,
    /// The parenthesised parameters, without the parentheses.
    header: TokenStream,
    instance: Option<Call>,
    body: TokenStream,
}

/// The models, the `const` items and the `const` items' tokens.
struct Models(Vec<RawModel>, Vec<ConstDef>, TokenStream);

impl Parse for Models {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut defs = Vec::new();
        let mut consts = Vec::new();
        let mut const_tokens = TokenStream::new();
        while !input.is_empty() {
            let begin = input.cursor();
            let attrs = input.call(Attribute::parse_outer)?;
            let vis: Visibility = input.parse()?;
            if input.peek(Token![const]) {
                input.parse::<Token![const]>()?;
                let name: Ident = input.parse()?;
                input.parse::<Token![:]>()?;
                let ty: Ident = input.parse()?;
                let kind = mithril_core::family::ParamType::named(&ty.to_string())
                    .filter(|t| *t != mithril_core::family::ParamType::Layer)
                    .ok_or_else(|| {
                        syn::Error::new_spanned(
                            &ty,
                            format!("a constant of a `model!` block is a `usize`, `i64`, `f64` or `bool`, found `{ty}`"),
                        )
                    })?;
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                input.parse::<Token![;]>()?;
                const_tokens.extend(tokens_between(begin, input.cursor()));
                consts.push(ConstDef {
                    attrs,
                    vis,
                    name,
                    ty,
                    kind,
                    value,
                });
                continue;
            }
            let name: Ident = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected a model: `pub Name { input x: [B, 784]; ... }`",
                )
            })?;
            let mut header = TokenStream::new();
            if input.peek(syn::token::Paren) {
                let content;
                parenthesized!(content in input);
                header = content.parse()?;
            }
            if input.peek(Token![=]) && !input.peek(Token![=>]) {
                let eq: Token![=] = input.parse()?;
                if !header.is_empty() {
                    return Err(syn::Error::new_spanned(
                        eq,
                        format!(
                            "model `{name}` is either a family with parameters or an instance of one, not both"
                        ),
                    ));
                }
                let call = parse_call(input, false, &[])?;
                if call.name.is_some() || call.repeat.is_some() {
                    return Err(syn::Error::new_spanned(
                        &call.tokens,
                        format!(
                            "expected a model with its arguments, as in `{name} = Block(d = 768);`"
                        ),
                    ));
                }
                input.parse::<Token![;]>().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        format!("expected `;` after the instance `{name}`"),
                    )
                })?;
                defs.push(RawModel {
                    attrs,
                    vis,
                    name,
                    header,
                    instance: Some(call),
                    body: TokenStream::new(),
                });
                continue;
            }
            if !input.peek(syn::token::Brace) {
                return Err(input.error(format!(
                    "expected `{{` and the statements of model `{name}`, as in `{name} {{ input x: [B, 784]; ... }}`, or `= Family(..);`, found `{}`",
                    next_token(input)
                )));
            }
            let content;
            braced!(content in input);
            defs.push(RawModel {
                attrs,
                vis,
                name,
                header,
                instance: None,
                body: content.parse()?,
            });
        }
        Ok(Models(defs, consts, const_tokens))
    }
}

/// Splits a model body at top-level `;` and parses each statement.
///
/// Each statement is parsed together with its `;`, so that "expected ..."
/// errors at the end of a statement point at the `;` rather than at the
/// whole macro invocation.
pub fn statements(body: TokenStream, params: &[String], errors: &mut Vec<syn::Error>) -> Vec<Stmt> {
    let mut stmts = Vec::new();
    let mut current = TokenStream::new();
    let flush = |tokens: TokenStream, stmts: &mut Vec<Stmt>, errors: &mut Vec<syn::Error>| {
        // A lone `;` is an empty statement.
        if tokens.clone().into_iter().nth(1).is_none() {
            return;
        }
        if let Err(e) = nesting::check(&tokens) {
            errors.push(e);
            return;
        }
        let parse = |input: ParseStream| parse_stmt(input, params);
        match syn::parse::Parser::parse2(parse, tokens) {
            Ok(s) => stmts.push(s),
            Err(e) => errors.push(e),
        }
    };
    for tt in body {
        let end = matches!(&tt, TokenTree::Punct(p) if p.as_char() == ';');
        current.extend([tt]);
        if end {
            flush(std::mem::take(&mut current), &mut stmts, errors);
        }
    }
    if let Some(last) = current.clone().into_iter().last() {
        errors.push(syn::Error::new_spanned(
            &last,
            "expected `;` after this statement",
        ));
        // Parse it as if the `;` were there, to report its other errors.
        let mut semi = proc_macro2::Punct::new(';', proc_macro2::Spacing::Alone);
        semi.set_span(last.span());
        current.extend([TokenTree::Punct(semi)]);
        flush(current, &mut stmts, errors);
    }
    stmts
}

fn is_keyword_decl(input: ParseStream, keyword: &str) -> bool {
    let fork = input.fork();
    matches!(fork.parse::<Ident>(), Ok(id) if id == keyword) && fork.peek(Ident)
}

/// A statement; `params` are the model's parameter names (an operand that
/// names one is a number, not a value).
fn parse_stmt(input: ParseStream, params: &[String]) -> syn::Result<Stmt> {
    {
        if input.peek(Token![static]) {
            let keyword: Token![static] = input.parse()?;
            if input.peek(Token![;]) {
                return Err(syn::Error::new_spanned(
                    keyword,
                    "`static` needs at least one name, as in `static mask: [B, T];`",
                ));
            }
            let decls = Punctuated::<InputDecl, Token![,]>::parse_separated_nonempty(input)?;
            expect_end(input)?;
            let decls = decls
                .into_iter()
                .map(|d| InputDecl {
                    differentiable: false,
                    ..d
                })
                .collect();
            return Ok(Stmt::Input(decls));
        }
        // Every other statement starts with a name: `input`, `buffer`,
        // `output`, a value or a layer.
        if !input.peek(Ident) {
            return Err(input.error(format!(
                "expected a statement: `input x: [B, 784];`, `static s: [1];`, `buffer c: [8, 2];`, `x -> Layer => y;`, `Layer(a, b) => y;`, `share a.weight = b.weight;` or `output y;`, found `{}`",
                next_token(input)
            )));
        }
        for (keyword, example) in [
            ("input", "`input x: [B, 784];`"),
            ("buffer", "`buffer centers: [8, 2];`"),
            ("output", "`output logits;`"),
        ] {
            let fork = input.fork();
            if matches!(fork.parse::<Ident>(), Ok(id) if id == keyword) && fork.peek(Token![;]) {
                return Err(syn::Error::new_spanned(
                    input.parse::<Ident>()?,
                    format!("`{keyword}` needs at least one name, as in {example}"),
                ));
            }
        }
        if is_keyword_decl(input, "input") {
            input.parse::<Ident>()?;
            let decls = Punctuated::<InputDecl, Token![,]>::parse_separated_nonempty(input)?;
            expect_end(input)?;
            return Ok(Stmt::Input(decls.into_iter().collect()));
        }
        if is_keyword_decl(input, "share") {
            input.parse::<Ident>()?;
            let target: ParamPath = input.parse()?;
            if !input.peek(Token![=]) || input.peek(Token![=>]) {
                return Err(input.error(format!(
                    "expected `=` and the parameter it shares, as in `share head.weight = embed.weight;`, found `{}`",
                    next_token(input)
                )));
            }
            input.parse::<Token![=]>()?;
            let source: ParamPath = input.parse()?;
            expect_end(input)?;
            return Ok(Stmt::Share(Share { target, source }));
        }
        if is_keyword_decl(input, "buffer") {
            input.parse::<Ident>()?;
            let decls = Punctuated::<BufferDecl, Token![,]>::parse_separated_nonempty(input)?;
            expect_end(input)?;
            return Ok(Stmt::Buffer(decls.into_iter().collect()));
        }
        if is_keyword_decl(input, "output") {
            let keyword: Ident = input.parse()?;
            let names = Punctuated::<Ident, Token![,]>::parse_separated_nonempty(input)?;
            expect_end(input)?;
            return Ok(Stmt::Output(keyword, names.into_iter().collect()));
        }
        let flow = parse_flow(input, params)?;
        expect_end(input)?;
        Ok(Stmt::Flow(flow))
    }
}

/// The `;` that ends every statement (see [`statements`]).
fn expect_end(input: ParseStream) -> syn::Result<()> {
    if input.peek(Token![;]) {
        input.parse::<Token![;]>()?;
        return Ok(());
    }
    Err(input.error(format!(
        "expected `;` to end the statement, found `{}`",
        next_token(input)
    )))
}

/// The next token as text, for errors: `foo`, `+`, `(`.
fn next_token(input: ParseStream) -> String {
    match input.cursor().token_tree() {
        Some((TokenTree::Group(g), _)) => match g.delimiter() {
            proc_macro2::Delimiter::Parenthesis => "(".into(),
            proc_macro2::Delimiter::Bracket => "[".into(),
            proc_macro2::Delimiter::Brace => "{".into(),
            proc_macro2::Delimiter::None => g.stream().to_string(),
        },
        Some((TokenTree::Punct(p), mut rest)) => {
            // `=>`, `->` and `::` are several joint punctuation tokens.
            let mut text = p.as_char().to_string();
            let mut spacing = p.spacing();
            while spacing == proc_macro2::Spacing::Joint {
                let Some((TokenTree::Punct(next), after)) = rest.token_tree() else {
                    break;
                };
                text.push(next.as_char());
                spacing = next.spacing();
                rest = after;
            }
            text
        }
        Some((tt, _)) => tt.to_string(),
        None => String::new(),
    }
}

impl Parse for ParamPath {
    /// `layer.weight`, `attn.query_proj.weight`, `blocks.0.fc.bias`.
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut segments = Vec::new();
        let mut tokens = TokenStream::new();
        let first: Ident = input.call(Ident::parse_any).map_err(|_| {
            input.error(format!(
                "expected a parameter such as `head.weight`, found `{}`",
                next_token(input)
            ))
        })?;
        segments.push(first.unraw().to_string());
        first.to_tokens(&mut tokens);
        while input.peek(Token![.]) {
            let dot: Token![.] = input.parse()?;
            dot.to_tokens(&mut tokens);
            if input.peek(syn::LitInt) {
                let index: syn::LitInt = input.parse()?;
                segments.push(index.base10_digits().to_string());
                index.to_tokens(&mut tokens);
            } else if input.peek(syn::LitFloat) {
                // `blocks.0.1` lexes its last part as the float `0.1`.
                let index: syn::LitFloat = input.parse()?;
                segments.extend(index.base10_digits().split('.').map(String::from));
                index.to_tokens(&mut tokens);
            } else {
                let part: Ident = input.call(Ident::parse_any).map_err(|_| {
                    input.error(format!(
                        "expected a name or an index after `.`, found `{}`",
                        next_token(input)
                    ))
                })?;
                segments.push(part.unraw().to_string());
                part.to_tokens(&mut tokens);
            }
        }
        if segments.len() < 2 {
            return Err(syn::Error::new_spanned(
                &tokens,
                format!(
                    "`{}` is a layer; name one of its parameters, as in `{}.weight`",
                    segments[0], segments[0]
                ),
            ));
        }
        Ok(ParamPath { segments, tokens })
    }
}

impl Parse for InputDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!(
                    "expected an input name, as in `input x: [B, 784];`, found `{}`",
                    next_token(input)
                ),
            )
        })?;
        input.parse::<Token![:]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected `:` and a shape after input `{name}`, as in `{name}: [B, 784]`"),
            )
        })?;
        if !input.peek(syn::token::Bracket) {
            return Err(input.error(format!(
                "expected the shape of input `{name}` in brackets, as in `{name}: [B, 784]`, found `{}`",
                next_token(input)
            )));
        }
        let content;
        let bracket = bracketed!(content in input);
        let dims = Punctuated::<DimTok, Token![,]>::parse_terminated(&content)?;
        Ok(InputDecl {
            name,
            dims: dims.into_iter().collect(),
            span: bracket.span.join(),
            differentiable: true,
        })
    }
}

impl Parse for BufferDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let begin = input.cursor();
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!(
                    "expected a buffer name, as in `buffer centers: [8, 2];`, found `{}`",
                    next_token(input)
                ),
            )
        })?;
        input.parse::<Token![:]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected `:` and a shape after buffer `{name}`, as in `{name}: [8, 2]`"),
            )
        })?;
        if !input.peek(syn::token::Bracket) {
            return Err(input.error(format!(
                "expected the shape of buffer `{name}` in brackets, as in `{name}: [8, 2]`, found `{}`",
                next_token(input)
            )));
        }
        let shape_begin = input.cursor();
        let content;
        bracketed!(content in input);
        let dims = Punctuated::<DimTok, Token![,]>::parse_terminated(&content)?;
        let shape = tokens_between(shape_begin, input.cursor());
        let fill = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(buffer_fill(input, &name)?)
        } else {
            None
        };
        Ok(BufferDecl {
            tokens: tokens_between(begin, input.cursor()),
            name,
            shape,
            dims: dims.into_iter().collect(),
            fill,
        })
    }
}

/// A number, `0.5`, `2` or `-1e-3`, as a finite `f64`.
fn number(input: ParseStream) -> syn::Result<Number> {
    let begin = input.cursor();
    let negative = input.peek(Token![-]);
    if negative {
        input.parse::<Token![-]>()?;
    }
    let lit: syn::Lit = if input.peek(syn::LitInt) || input.peek(syn::LitFloat) {
        input.parse()?
    } else {
        return Err(input.error("expected a number"));
    };
    let tokens = tokens_between(begin, input.cursor());
    let parsed = match &lit {
        syn::Lit::Int(n) => n.base10_parse::<f64>(),
        syn::Lit::Float(x) => x.base10_parse::<f64>(),
        _ => unreachable!("peeked a number"),
    };
    match parsed {
        Ok(v) if v.is_finite() => Ok(Number {
            value: if negative { -v } else { v },
            tokens,
        }),
        _ => Err(syn::Error::new_spanned(
            &tokens,
            format!(
                "the number `{}` is beyond the largest 64-bit float",
                tokens.to_string().replace(' ', "")
            ),
        )),
    }
}

/// A buffer's initial value: a number a 32-bit float holds (buffers are
/// stored as f32), reported at the literal when it is beyond that.
fn buffer_fill(input: ParseStream, name: &Ident) -> syn::Result<Number> {
    let begin = input.cursor();
    let beyond = |tokens: &TokenStream| {
        syn::Error::new_spanned(
            tokens,
            format!(
                "the initial value of buffer `{name}`, `{}`, is beyond the range of a 32-bit float, in which buffers are stored: from -{max:e} to {max:e}",
                tokens.to_string().replace(' ', ""),
                max = f32::MAX
            ),
        )
    };
    match number(input) {
        Ok(n) if n.value.abs() <= f64::from(f32::MAX) => Ok(n),
        Ok(n) => Err(beyond(&n.tokens)),
        // A literal was read: it is beyond even a 64-bit float.
        Err(_) if !tokens_between(begin, input.cursor()).is_empty() => {
            Err(beyond(&tokens_between(begin, input.cursor())))
        }
        Err(e) => Err(syn::Error::new(
            e.span(),
            format!(
                "expected the initial value of buffer `{name}`, a number such as `0.5`, found `{}`",
                next_token(input)
            ),
        )),
    }
}

impl Parse for Operand {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let alone = |fork: ParseStream| fork.is_empty() || fork.peek(Token![,]);
        if input.peek(Ident) {
            let fork = input.fork();
            fork.parse::<Ident>()?;
            if alone(&fork) {
                return Ok(Operand::Value(input.parse()?));
            }
        }
        if input.peek(Token![-]) || input.peek(syn::LitInt) || input.peek(syn::LitFloat) {
            let fork = input.fork();
            if fork.peek(Token![-]) {
                fork.parse::<Token![-]>()?;
            }
            if fork.parse::<syn::Lit>().is_ok() && alone(&fork) {
                return Ok(Operand::Literal(number(input)?));
            }
        }
        // An expression of parameters: `1.0 / scale`, `(d - 1) * 2`.
        let arithmetic = |e: &Expr| {
            matches!(
                e,
                Expr::Binary(_) | Expr::Unary(_) | Expr::Paren(_) | Expr::Call(_) | Expr::Index(_)
            )
        };
        let fork = input.fork();
        if let Ok(e) = fork.parse::<Expr>()
            && arithmetic(&e)
            && alone(&fork)
        {
            return Ok(Operand::Expr(input.parse()?));
        }
        Err(input.error(format!(
            "expected a value name or a number, such as `x` or `0.5`, found `{}`",
            next_token(input)
        )))
    }
}

impl Parse for DimTok {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let alone = |fork: ParseStream| fork.is_empty() || fork.peek(Token![,]);
        let fork = input.fork();
        let simple =
            (fork.parse::<LitInt>().is_ok() || fork.parse::<Ident>().is_ok()) && alone(&fork);
        if simple && input.peek(LitInt) {
            Ok(DimTok::Lit(input.parse()?))
        } else if simple && input.peek(Ident) {
            Ok(DimTok::Sym(input.parse()?))
        } else if input.peek(LitInt) || input.peek(Ident) || input.peek(syn::token::Paren) {
            Ok(DimTok::Expr(input.parse()?))
        } else {
            Err(input.error(format!(
                "expected a dimension: a size such as `784` or a symbol such as `B`, found `{}`",
                next_token(input)
            )))
        }
    }
}

fn parse_flow(input: ParseStream, params: &[String]) -> syn::Result<Flow> {
    {
        let head = if input.peek(Ident)
            && !marks_checkpoint(input)
            && !input.peek2(Token![:])
            && !input.peek2(syn::token::Paren)
            && !input.peek2(Token![::])
        {
            Head::Value(input.parse()?)
        } else {
            Head::Apply(parse_call(input, true, params)?)
        };
        let mut stages = Vec::new();
        while input.peek(Token![->]) {
            input.parse::<Token![->]>()?;
            stages.push(match input.peek(Token![for]) {
                true => Stage::Loop(Box::new(parse_loop(input, params)?)),
                false => Stage::Call(parse_call(input, false, params)?),
            });
        }
        let arrow: Token![=>] = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!(
                    "expected `->` and a layer, or `=> name` to name the result, found `{}`",
                    next_token(input)
                ),
            )
        })?;
        if input.peek(syn::token::Brace) {
            let content;
            let brace = braced!(content in input);
            let bindings = Punctuated::<OutputBinding, Token![,]>::parse_terminated(&content)?;
            if bindings.is_empty() {
                return Err(syn::Error::new(
                    brace.span.join(),
                    "expected the outputs to bind, as in `=> { hidden: h, cell }`",
                ));
            }
            if let Head::Value(v) = &head
                && stages.is_empty()
            {
                return Err(syn::Error::new_spanned(
                    quote::quote!(#v #arrow),
                    format!("`{v} => {{ .. }}` applies no layer; write `{v} -> Model => {{ .. }}`"),
                ));
            }
            return Ok(Flow {
                head,
                stages,
                target: Target::Outputs(bindings.into_iter().map(|b| (b.0, b.1)).collect()),
            });
        }
        let target: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!(
                    "expected a name for the result after `=>`, or `{{ output: name, .. }}` for a model's outputs, found `{}`",
                    next_token(input)
                ),
            )
        })?;
        if let Head::Value(v) = &head
            && stages.is_empty()
        {
            return Err(syn::Error::new_spanned(
                quote::quote!(#v #arrow #target),
                format!("`{v} => {target}` applies no layer; write `{v} -> Layer => {target}`"),
            ));
        }
        let target = Target::Name(target);
        Ok(Flow {
            head,
            stages,
            target,
        })
    }
}

/// `for i in start..end { stage -> stage }`: the body's stages may read `i`.
fn parse_loop(input: ParseStream, params: &[String]) -> syn::Result<crate::ast::Loop> {
    let begin = input.cursor();
    input.parse::<Token![for]>()?;
    let var: Ident = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!(
                "expected a loop index, as in `for i in 0..n {{ .. }}`, found `{}`",
                next_token(input)
            ),
        )
    })?;
    input
        .parse::<Token![in]>()
        .map_err(|e| syn::Error::new(e.span(), format!("expected `in` after `for {var}`")))?;
    let range = Expr::parse_without_eager_brace(input)?;
    let header = tokens_between(begin, input.cursor());
    let Expr::Range(syn::ExprRange {
        start: Some(start),
        limits: syn::RangeLimits::HalfOpen(_),
        end: Some(end),
        ..
    }) = range
    else {
        return Err(syn::Error::new_spanned(
            &range,
            "a loop runs over a range `start..end`, as in `for i in 0..len(dims)`",
        ));
    };
    if !input.peek(syn::token::Brace) {
        return Err(input.error(format!(
            "expected the loop's stages in braces, as in `for {var} in .. {{ Linear(8) -> Relu }}`"
        )));
    }
    let content;
    braced!(content in input);
    let mut scope: Vec<String> = params.to_vec();
    scope.push(var.unraw().to_string());
    let mut body = vec![parse_call(&content, false, &scope)?];
    while content.peek(Token![->]) {
        content.parse::<Token![->]>()?;
        body.push(parse_call(&content, false, &scope)?);
    }
    if !content.is_empty() {
        return Err(content.error(format!(
            "expected `->` and the next stage of the loop, found `{}`",
            next_token(&content)
        )));
    }
    Ok(crate::ast::Loop {
        header,
        var,
        start: *start,
        end: *end,
        body,
    })
}

/// `hidden: h` or `cell` in `=> { hidden: h, cell }`.
struct OutputBinding(Ident, Ident);

impl Parse for OutputBinding {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let output: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!(
                    "expected an output of the model, as in `=> {{ hidden: h, cell }}`, found `{}`",
                    next_token(input)
                ),
            )
        })?;
        if input.peek(Token![:]) {
            input.parse::<Token![:]>()?;
            let value: Ident = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!(
                        "expected a name for output `{output}`, found `{}`",
                        next_token(input)
                    ),
                )
            })?;
            return Ok(OutputBinding(output, value));
        }
        Ok(OutputBinding(output.clone(), output))
    }
}

/// The tokens from `from` up to (not including) `to`, with their spans.
fn tokens_between(mut from: Cursor<'_>, to: Cursor<'_>) -> TokenStream {
    let mut out = TokenStream::new();
    while from != to {
        match from.token_tree() {
            Some((tt, next)) => {
                out.extend([tt]);
                from = next;
            }
            None => break,
        }
    }
    out
}

/// `[name:] Layer[(args)][(inputs)] [* N]`. At the head of a flow the call
/// takes its inputs in parentheses: `Add(x, h)` or `Concat(axis = 1)(a, b)`.
fn parse_call(input: ParseStream, head: bool, params: &[String]) -> syn::Result<Call> {
    let checkpoint = match marks_checkpoint(input) {
        true => Some(input.parse::<Ident>()?),
        false => None,
    };
    let begin = input.cursor();
    let mut name = None;
    if input.peek(Ident) && input.peek2(Token![:]) && !input.peek2(Token![::]) {
        let n: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        if marks_checkpoint(input) {
            let keyword: Ident = input.parse()?;
            return Err(syn::Error::new_spanned(
                &keyword,
                format!("`checkpoint` goes before the layer's name: `checkpoint {n}: ..`"),
            ));
        }
        name = Some(n);
    }
    let layer: syn::Path = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!(
                "expected a layer, such as `Linear(128)`, found `{}`",
                next_token(input)
            ),
        )
    })?;
    // `acts[i]`: a layer chosen from a list parameter.
    let mut index = None;
    if layer.get_ident().is_some() && input.peek(syn::token::Bracket) {
        let content;
        bracketed!(content in input);
        index = Some(Box::new(content.parse::<Expr>()?));
    }
    let mut groups = Vec::new();
    while input.peek(syn::token::Paren) && groups.len() < 2 {
        let content;
        parenthesized!(content in input);
        let tokens: TokenStream = content.parse()?;
        groups.push(tokens);
    }
    let tokens = tokens_between(begin, input.cursor());
    let mut repeat = None;
    if input.peek(Token![*]) {
        input.parse::<Token![*]>()?;
        // A count, a parameter, or an expression in parentheses.
        let count = if input.peek(LitInt) {
            input.parse::<LitInt>().map(|n| {
                Expr::Lit(syn::ExprLit {
                    attrs: Vec::new(),
                    lit: n.into(),
                })
            })
        } else if input.peek(Ident) && !input.peek2(Token![::]) && !input.peek2(syn::token::Paren) {
            input.parse::<Ident>().map(|i| {
                Expr::Path(syn::ExprPath {
                    attrs: Vec::new(),
                    qself: None,
                    path: i.into(),
                })
            })
        } else if input.peek(syn::token::Paren) {
            input.parse::<syn::ExprParen>().map(Expr::Paren)
        } else {
            Err(input.error("no count"))
        };
        repeat = Some(Box::new(count.map_err(|e| {
            syn::Error::new(
                e.span(),
                format!(
                    "expected a repeat count after `*`, as in `Block * 3`, `Block * layers` or `Block * (n - 1)`, found `{}`",
                    next_token(input)
                ),
            )
        })?));
    }
    let layer_name = layer
        .segments
        .last()
        .map(|s| s.ident.unraw().to_string())
        .unwrap_or_default();
    // Two words in a row: a misspelt `checkpoint` before a layer.
    if let Some(word) = layer.get_ident()
        && input.peek(Ident)
        && mithril_core::closest(&word.to_string(), &[CHECKPOINT]).is_some()
    {
        return Err(syn::Error::new_spanned(
            word,
            format!(
                "unknown word `{word}` before a layer; did you mean `{CHECKPOINT}` (the layer recomputed in the backward pass)?"
            ),
        ));
    }
    // Only a bare word names a built-in layer; a path names a model.
    let info = match layer.get_ident() {
        Some(_) => mithril_core::layers::info(&layer_name),
        None => None,
    };
    let single = info.is_some_and(|l| l.inputs == mithril_core::layers::Arity::Exactly(1));
    let (args, inputs) = match (head, groups.len()) {
        (false, 0) => (Vec::new(), None),
        (false, 1) => {
            // `x -> Add(x, h)`: a multi-input layer given its inputs in a
            // pipeline. Numbers alone complete its operands after the
            // previous value: `x -> Multiply(0.5)`.
            let takes_inputs = info.is_some_and(|l| !single && l.args.is_empty());
            if takes_inputs {
                let group = groups.remove(0);
                return match numbers_of(group, params) {
                    Some(numbers) => Ok(Call {
                        checkpoint,
                        tokens,
                        name,
                        layer,
                        index,
                        args: Vec::new(),
                        inputs: numbers,
                        repeat,
                    }),
                    None => Err(syn::Error::new_spanned(
                        &tokens,
                        format!(
                            "a pipeline stage takes the previous value as its only input, so `{layer_name}` cannot list inputs here; start a statement with it instead: `{layer_name}(a, b) => c;` (numbers alone may follow the previous value: `-> {layer_name}(0.5)`)"
                        ),
                    )),
                };
            }
            (args_of(groups.remove(0))?, None)
        }
        (false, _) => {
            return Err(syn::Error::new_spanned(
                &tokens,
                format!(
                    "a pipeline stage takes the previous value as its only input, so `{layer_name}(..)(..)` cannot list inputs here; start a statement with it instead: `{layer_name}(..)(a, b) => c;`"
                ),
            ));
        }
        (true, 0) => {
            return Err(syn::Error::new_spanned(
                &tokens,
                needs_input(&layer_name, info.is_some_and(|l| l.args.is_empty())),
            ));
        }
        (true, 1) => {
            // One group at the head: inputs, unless the layer is a known
            // single-input layer (then it is its arguments and no input is given).
            if single {
                return Err(syn::Error::new_spanned(
                    &tokens,
                    needs_input(&layer_name, info.is_some_and(|l| l.args.is_empty())),
                ));
            }
            (Vec::new(), Some(inputs_of(groups.remove(0))?))
        }
        (true, _) => {
            let inputs = inputs_of(groups.remove(1))?;
            (args_of(groups.remove(0))?, Some(inputs))
        }
    };
    Ok(Call {
        checkpoint,
        tokens,
        name,
        layer,
        index,
        args,
        inputs: inputs.unwrap_or_default(),
        repeat,
    })
}

/// The word that marks a call as recomputed in the backward pass.
const CHECKPOINT: &str = "checkpoint";

/// Whether the next tokens are `checkpoint` and a layer: the word alone, or
/// followed by `:`, `::` or `(`, is a name or a layer like any other.
fn marks_checkpoint(input: ParseStream) -> bool {
    input.peek2(Ident)
        && input
            .fork()
            .parse::<Ident>()
            .is_ok_and(|word| word == CHECKPOINT)
}

/// The error for a single-input layer at the head of a flow.
fn needs_input(layer: &str, takes_no_args: bool) -> String {
    if takes_no_args {
        format!(
            "`{layer}` takes one input and no arguments; apply it with a pipeline: `x -> {layer} => y;`"
        )
    } else {
        format!(
            "`{layer}` needs an input: start the statement with a value, `x -> {layer}(..) => y;`, or give it after the arguments, `{layer}(..)(x) => y;`"
        )
    }
}

fn inputs_of(tokens: TokenStream) -> syn::Result<Vec<Operand>> {
    let operands =
        syn::parse::Parser::parse2(Punctuated::<Operand, Token![,]>::parse_terminated, tokens)?;
    Ok(operands.into_iter().collect())
}

/// The operands of a pipeline stage's parentheses when they are all
/// numbers (`-> Multiply(0.5)`), parameters or expressions; `None` otherwise.
fn numbers_of(tokens: TokenStream, params: &[String]) -> Option<Vec<Operand>> {
    let operands = inputs_of(tokens).ok()?;
    let numbers = !operands.is_empty()
        && operands.iter().all(|o| match o {
            Operand::Value(v) => params.contains(&v.unraw().to_string()),
            _ => true,
        });
    numbers.then_some(operands)
}

/// A model's parameters, `d: usize, heads: usize = 12, act: Layer = Gelu`.
pub fn params_of(tokens: TokenStream, errors: &mut Vec<syn::Error>) -> Vec<ParamDecl> {
    let parsed =
        syn::parse::Parser::parse2(Punctuated::<ParamDecl, Token![,]>::parse_terminated, tokens);
    match parsed {
        Ok(p) => {
            let mut out: Vec<ParamDecl> = Vec::new();
            for decl in p {
                if out.iter().any(|d| d.name == decl.name) {
                    errors.push(syn::Error::new_spanned(
                        &decl.name,
                        format!("parameter `{}` is declared twice", decl.name),
                    ));
                } else {
                    out.push(decl);
                }
            }
            out
        }
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    }
}

impl Parse for ParamDecl {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!(
                    "expected a parameter, as in `(d: usize, heads: usize = 12)`, found `{}`",
                    next_token(input)
                ),
            )
        })?;
        input.parse::<Token![:]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected `:` and a type after parameter `{name}`, as in `{name}: usize`"),
            )
        })?;
        let begin = input.cursor();
        let (word, list) = if input.peek(syn::token::Bracket) {
            let content;
            bracketed!(content in input);
            let word: Ident = content.parse()?;
            if !content.is_empty() {
                return Err(content.error("expected `]`"));
            }
            (word, true)
        } else {
            (input.call(Ident::parse_any)?, false)
        };
        let ty = tokens_between(begin, input.cursor());
        let item = mithril_core::family::ParamType::named(&word.to_string()).ok_or_else(|| {
            syn::Error::new_spanned(
                &ty,
                format!(
                    "unknown parameter type `{}`; a parameter is a `usize`, `i64`, `f64`, `bool` or `Layer`, or a list of one, such as `[usize]`",
                    ty.to_string().replace(' ', "")
                ),
            )
        })?;
        let default = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse::<Expr>()?)
        } else {
            None
        };
        Ok(ParamDecl {
            name,
            kind: mithril_core::family::ParamKind { item, list },
            default,
        })
    }
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

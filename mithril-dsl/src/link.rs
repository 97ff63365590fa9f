//! Models of other blocks: another module's, or another crate's.
//!
//! A proc macro sees only its own tokens, so each model also expands into a
//! hidden `macro_rules!` that carries its *signature*: its statements and,
//! recursively, those of every model it nests. The macro is re-exported
//! under the model's own name (macros and types live in different
//! namespaces), so `use zoo::Block;` brings both, and the model's
//! visibility is the macro's: `pub` models' macros are `#[macro_export]`ed
//! (that is the only way out of a crate) and re-exported with `pub use`.
//!
//! A block that names models of other blocks expands in two steps (the
//! "eager callback" pattern): first into a call of the first model's
//! signature macro, which hands its signature to the next and the last back
//! to `::mithril::model!` with the block's tokens; the second expansion
//! checks the block against those signatures. Meanwhile the block's models
//! have fallback items (a hidden module, glob-imported, which the real
//! items shadow), so that a path that does not resolve (reported by rustc
//! at the user's token) adds no errors in code that uses the models.
//!
//! The caller's tokens travel through the signature macros unchanged, so
//! every error points at them.

use std::sync::Arc;

use mithril_core::family::Template;
use mithril_core::graph::{Graph, Nested};
use proc_macro2::{Delimiter, Ident, Literal, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;

use crate::ast::ModelDef;
use crate::ir::{self, ModelIr, local_index};

/// The word after `@` that starts the second expansion of a block.
const CONTINUE: &str = "__mithril_continue";

/// What the signatures are written with; a caller reads only its own.
const FORMAT: &str = concat!("mithril-dsl ", env!("CARGO_PKG_VERSION"), " signature 3");

/// An invocation of `model!`: the user's tokens, and in the second step
/// the signatures that were asked for, by layer key.
pub struct Invocation {
    /// The models, as the user wrote them.
    pub body: TokenStream,
    /// `None` in the first step.
    pub signatures: Option<Vec<(String, TokenStream)>>,
}

/// Splits the second step's header off; the first step is the input itself.
pub fn split(input: TokenStream) -> Invocation {
    let tokens: Vec<TokenTree> = input.clone().into_iter().collect();
    let header = matches!(
        (tokens.first(), tokens.get(1)),
        (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(w))) if p.as_char() == '@' && w == CONTINUE
    );
    if !header {
        return Invocation {
            body: input,
            signatures: None,
        };
    }
    // `@__mithril_continue ["key" ...] { body } { signature } ...`
    let keys: Vec<String> = match tokens.get(2) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => g
            .stream()
            .into_iter()
            .filter_map(|t| match t {
                TokenTree::Literal(l) => syn::parse2::<syn::LitStr>(l.into_token_stream())
                    .ok()
                    .map(|s| s.value()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let body = match tokens.get(3) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g.stream(),
        _ => TokenStream::new(),
    };
    let signatures = keys
        .into_iter()
        .zip(tokens.iter().skip(4))
        .map(|(key, t)| match t {
            TokenTree::Group(g) => (key, g.stream()),
            other => (key, other.to_token_stream()),
        })
        .collect();
    Invocation {
        body,
        signatures: Some(signatures),
    }
}

/// A layer that names a model of another block, by its key (the path as
/// one string) and its path as written.
pub struct Reference {
    pub key: String,
    pub path: syn::Path,
}

/// The models of other blocks the block uses, each once, in order of first
/// use: every layer that is no built-in layer, no model of the block, and
/// no misspelt built-in (core reports that one, with a suggestion).
pub fn references(models: &[ModelIr]) -> Vec<Reference> {
    let mut out: Vec<Reference> = Vec::new();
    for model in models {
        for (node, tokens) in model.spec.nodes.iter().zip(&model.nodes) {
            let key = &*node.layer;
            let builtin = |name: &str| mithril_core::layers::info(name).is_some();
            let misspelt = |name: &str| {
                mithril_core::layers::CATALOGUE
                    .iter()
                    .any(|l| typo(name, l.name))
            };
            let bare = !key.contains("::");
            // A layer parameter names its layer when the family is instantiated.
            if key.starts_with(mithril_core::family::LAYER_PARAM) {
                continue;
            }
            if (bare && (builtin(key) || misspelt(key)))
                || local_index(models, key).is_some()
                || out.iter().any(|r| r.key == key)
            {
                continue;
            }
            out.push(Reference {
                key: key.to_string(),
                path: tokens.layer.clone(),
            });
        }
    }
    out
}

/// Whether `word` is one edit (or a swap of neighbours, or only case) away
/// from the built-in layer `name`: then it is reported as a misspelling
/// rather than looked up as a model of another block. A model of another
/// block whose name is that close can be named by its path (`blocks::Relu6`).
fn typo(word: &str, name: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (
        word.to_lowercase().chars().collect(),
        name.to_lowercase().chars().collect(),
    );
    if a == b {
        return word != name;
    }
    match a.len() as isize - b.len() as isize {
        0 => {
            let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            diff.len() == 1
                || (diff.len() == 2
                    && diff[1] == diff[0] + 1
                    && a[diff[0]] == b[diff[1]]
                    && a[diff[1]] == b[diff[0]])
        }
        1 | -1 => {
            let (long, short) = if a.len() > b.len() {
                (&a, &b)
            } else {
                (&b, &a)
            };
            (0..long.len()).any(|skip| {
                long.iter()
                    .enumerate()
                    .filter(|&(i, _)| i != skip)
                    .map(|(_, c)| c)
                    .eq(short.iter())
            })
        }
        _ => false,
    }
}

/// The first step: asks each referenced model for its signature, the last
/// answering to `::mithril::model!` with the block.
pub fn request(refs: &[Reference], body: TokenStream) -> TokenStream {
    let Some((first, rest)) = refs.split_first() else {
        return TokenStream::new();
    };
    let keys = refs.iter().map(|r| Literal::string(&r.key));
    let first = &first.path;
    let rest = rest.iter().map(|r| &r.path);
    quote! {
        #first! {
            #({ #rest })*
            { ::mithril::model }
            @__mithril_continue [#(#keys)*] { #body }
        }
    }
}

/// A model's signature: its statements and those of the models it nests,
/// by the keys it names them with; or the mark of a model that failed.
#[derive(Clone)]
pub enum Signature {
    Model {
        name: Ident,
        /// The parameters as written (empty for a plain model).
        header: TokenStream,
        /// The block's `const` items as written, which the statements read.
        consts: TokenStream,
        /// Whether it is an instance (`Name = Family(..)`), whose body is
        /// the call.
        instance: bool,
        body: TokenStream,
        nested: Vec<(String, Signature)>,
    },
    Failed,
}

impl Signature {
    /// The signature as tokens, inside a signature macro.
    pub fn to_tokens(&self) -> TokenStream {
        let format = Literal::string(FORMAT);
        let inner = self.inner_tokens();
        quote!({ #format #inner })
    }

    fn inner_tokens(&self) -> TokenStream {
        match self {
            Signature::Failed => quote!(failed),
            Signature::Model {
                name,
                header,
                consts,
                instance,
                body,
                nested,
            } => {
                let keys = nested.iter().map(|(k, _)| Literal::string(k));
                let models = nested.iter().map(|(_, s)| s.inner_tokens());
                let kind = match instance {
                    true => quote!(instance),
                    false => quote!(ok),
                };
                quote!(#kind #name ( #header ) [ #consts ] { #body } #( #keys { #models } )*)
            }
        }
    }

    /// Reads a signature written by [`Signature::to_tokens`].
    fn parse(tokens: TokenStream) -> Result<Signature, String> {
        let mut it = tokens.into_iter();
        match it.next() {
            Some(TokenTree::Literal(l)) if l.to_string() == format!("{FORMAT:?}") => {}
            Some(TokenTree::Literal(l)) => {
                return Err(format!(
                    "its signature was written by {l}, and this crate's `model!` reads {FORMAT:?}; use one version of mithril"
                ));
            }
            _ => return Err("what answered is not a model's signature".into()),
        }
        let signature = Signature::parse_inner(&mut it)?;
        match it.next() {
            None => Ok(signature),
            Some(_) => Err("its signature has trailing tokens".into()),
        }
    }

    fn parse_inner(it: &mut impl Iterator<Item = TokenTree>) -> Result<Signature, String> {
        let bad = || "its signature is malformed".to_string();
        match it.next() {
            Some(TokenTree::Ident(w)) if w == "failed" => Ok(Signature::Failed),
            Some(TokenTree::Ident(w)) if w == "ok" || w == "instance" => {
                let instance = w == "instance";
                let Some(TokenTree::Ident(name)) = it.next() else {
                    return Err(bad());
                };
                let header = match it.next() {
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                        g.stream()
                    }
                    _ => return Err(bad()),
                };
                let consts = match it.next() {
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => g.stream(),
                    _ => return Err(bad()),
                };
                let body = match it.next() {
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g.stream(),
                    _ => return Err(bad()),
                };
                let mut nested = Vec::new();
                let mut rest: Vec<TokenTree> = it.collect();
                rest.reverse();
                while let Some(key) = rest.pop() {
                    let key = match key {
                        TokenTree::Literal(l) => syn::parse2::<syn::LitStr>(l.into_token_stream())
                            .map_err(|_| bad())?
                            .value(),
                        _ => return Err(bad()),
                    };
                    let inner = match rest.pop() {
                        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                            g.stream()
                        }
                        _ => return Err(bad()),
                    };
                    let mut inner_it = inner.into_iter();
                    nested.push((key, Signature::parse_inner(&mut inner_it)?));
                    if inner_it.next().is_some() {
                        return Err(bad());
                    }
                }
                Ok(Signature::Model {
                    name,
                    header,
                    consts,
                    instance,
                    body,
                    nested,
                })
            }
            _ => Err(bad()),
        }
    }

    /// The model's graph, rebuilt from its statements with this crate's
    /// rules (the same ones that checked it where it is defined).
    fn graph(&self) -> Result<Nested, String> {
        let Signature::Model {
            name,
            header,
            consts,
            instance,
            body,
            nested,
        } = self
        else {
            return Ok(Nested::Failed);
        };
        let mut errors = Vec::new();
        let const_defs = crate::parse::consts_of(consts.clone())
            .map_err(|e| format!("its constants do not parse here ({e})"))?;
        let values = ir::constants(&const_defs, &mut errors);
        let params = crate::parse::params_of(header.clone(), &mut errors);
        let mut names: Vec<String> = params.iter().map(|p| p.name.unraw().to_string()).collect();
        names.extend(const_defs.iter().map(|c| c.name.unraw().to_string()));
        let (stmts, call) = match instance {
            true => {
                let call = crate::parse::instance_call(body.clone())
                    .map_err(|e| format!("its statements do not parse here ({e})"))?;
                (Vec::new(), Some(call))
            }
            false => (
                crate::parse::statements(body.clone(), &names, &mut errors),
                None,
            ),
        };
        let def = ModelDef {
            attrs: Vec::new(),
            vis: syn::Visibility::Inherited,
            name: name.clone(),
            params,
            header: header.clone(),
            instance: call,
            consts: consts.clone(),
            body: body.clone(),
            stmts,
        };
        let model = ir::from_ast(&def, &values, &mut errors);
        if let Some(e) = errors.first() {
            return Err(format!("its statements do not parse here ({e})"));
        }
        let mut graphs = Vec::new();
        for (key, signature) in nested {
            graphs.push((key.clone(), signature.graph()?));
        }
        let lookup = move |key: &str| {
            graphs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, g)| g.clone())
        };
        if model.instance {
            let mut errors = Vec::new();
            let graph = crate::check::instance(&model, &lookup, &mut errors);
            return match (graph, errors.first()) {
                (Some(g), _) => Ok(Nested::Model(g)),
                (None, Some(e)) => Err(format!("it does not check here ({e})")),
                (None, None) => Ok(Nested::Failed),
            };
        }
        if !model.spec.params.is_empty() || !model.spec.loops.is_empty() {
            let locations = crate::check::locations(&model);
            let template = Template::new(model.spec, Arc::new(lookup)).with_locations(locations);
            return Ok(Nested::Family(Arc::new(template)));
        }
        match Graph::build(&model.spec, &lookup) {
            Ok(graph) => Ok(Nested::Model(Arc::new(graph))),
            Err(found) if found.is_empty() => Ok(Nested::Failed),
            Err(found) => Err(format!(
                "it does not check here ({})",
                found
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        }
    }
}

/// The models of other blocks, rebuilt from their signatures.
#[derive(Default)]
pub struct Externals {
    models: Vec<(String, Nested, Signature)>,
}

impl Externals {
    /// Reads the signatures of the second step; a signature that cannot be
    /// read is reported at the reference, and its users skip it silently.
    pub fn read(
        signatures: Vec<(String, TokenStream)>,
        refs: &[Reference],
        errors: &mut Vec<syn::Error>,
    ) -> Externals {
        let mut models = Vec::new();
        for (key, tokens) in signatures {
            let read = Signature::parse(tokens).and_then(|s| Ok((s.graph()?, s)));
            let (nested, signature) = match read {
                Ok(found) => found,
                Err(why) => {
                    let at = refs
                        .iter()
                        .find(|r| r.key == key)
                        .map(|r| r.path.to_token_stream())
                        .unwrap_or_default();
                    errors.push(syn::Error::new_spanned(
                        at,
                        format!("model `{key}` cannot be used here: {why}"),
                    ));
                    (Nested::Failed, Signature::Failed)
                }
            };
            models.push((key, nested, signature));
        }
        Externals { models }
    }

    /// Every model by its key.
    pub fn all(&self) -> Vec<(String, Nested)> {
        self.models
            .iter()
            .map(|(k, n, _)| (k.clone(), n.clone()))
            .collect()
    }

    /// Its signature, to pass on in the signatures of the block's models.
    pub fn signature(&self, key: &str) -> Option<&Signature> {
        self.models
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, _, s)| s)
    }
}

/// The signature of each model of the block: its statements, and those of
/// the models it nests (the block's own, or other blocks' as received).
pub fn signatures(
    defs: &[ModelDef],
    models: &[ModelIr],
    ok: &[bool],
    externals: &Externals,
) -> Vec<Signature> {
    fn of(
        i: usize,
        defs: &[ModelDef],
        models: &[ModelIr],
        graphs: &[bool],
        externals: &Externals,
        depth: usize,
    ) -> Signature {
        if !graphs[i] || depth > models.len() {
            return Signature::Failed;
        }
        let mut nested: Vec<(String, Signature)> = Vec::new();
        for node in models[i].spec.nodes.iter() {
            let key = &*node.layer;
            if nested.iter().any(|(k, _)| k == key) {
                continue;
            }
            let signature = match local_index(models, key) {
                Some(m) => of(m, defs, models, graphs, externals, depth + 1),
                None => match externals.signature(key) {
                    Some(s) => s.clone(),
                    None => continue,
                },
            };
            nested.push((key.to_string(), signature));
        }
        // An instance's "statements" are its call: `Gpt2(d = 768, ..)`.
        let body = match &defs[i].instance {
            Some(call) => call.tokens.clone(),
            None => defs[i].body.clone(),
        };
        Signature::Model {
            name: defs[i].name.clone(),
            header: defs[i].header.clone(),
            consts: defs[i].consts.clone(),
            instance: defs[i].instance.is_some(),
            body,
            nested,
        }
    }
    (0..models.len())
        .map(|i| of(i, defs, models, ok, externals, 0))
        .collect()
}

/// The signature macro of a model, re-exported under its name with its
/// visibility: `pub` models' macros are `#[macro_export]`ed.
pub fn signature_macro(def: &ModelDef, hidden: &Ident, signature: &Signature) -> TokenStream {
    let name = &def.name;
    let vis = &def.vis;
    let signature = signature.to_tokens();
    let export = matches!(def.vis, syn::Visibility::Public(_)).then(|| quote!(#[macro_export]));
    // `$` cannot be written inside quote!'s repetition syntax; build the
    // matcher from its tokens.
    let dollar = proc_macro2::Punct::new('$', proc_macro2::Spacing::Joint);
    let matcher = quote!({ #dollar (#dollar next:tt)* } #dollar (#dollar rest:tt)*);
    let next = quote!(#dollar (#dollar next)*);
    let rest = quote!(#dollar (#dollar rest)*);
    let doc = format!(
        " The signature of model `{}`, for `model!` blocks that use it (hidden).",
        name.unraw()
    );
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        // The statements it carries are data: a `crate::` in them is the
        // model's path as written, read by the caller's `model!`.
        #[allow(clippy::crate_in_macro_def)]
        #export
        macro_rules! #hidden {
            (#matcher) => { #next ! { #rest #signature } };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        #vis use #hidden as #name;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    #[test]
    fn misspellings_of_built_in_layers() {
        assert!(typo("Linaer", "Linear"));
        assert!(typo("Flaten", "Flatten"));
        assert!(typo("linear", "Linear"));
        assert!(typo("Relu6", "Relu"));
        assert!(!typo("Linear", "Linear"));
        assert!(!typo("Conv", "Conv1d"));
        assert!(!typo("Block", "Lstm"));
    }

    #[test]
    fn signatures_round_trip() {
        let signature = Signature::Model {
            name: Ident::new("Block", Span::call_site()),
            header: TokenStream::new(),
            consts: TokenStream::new(),
            instance: false,
            body: quote!(input x: [B, 4]; x -> inner::Inner => y; output y;),
            nested: vec![(
                "inner::Inner".to_string(),
                Signature::Model {
                    name: Ident::new("Inner", Span::call_site()),
                    header: TokenStream::new(),
                    consts: TokenStream::new(),
                    instance: false,
                    body: quote!(input x: [B, 4]; x -> Linear(4) => y; output y;),
                    nested: vec![],
                },
            )],
        };
        let tokens = signature.to_tokens();
        let TokenTree::Group(g) = tokens.into_iter().next().unwrap() else {
            panic!("a group");
        };
        let read = Signature::parse(g.stream()).unwrap();
        let Ok(Nested::Model(graph)) = read.graph() else {
            panic!("the graph rebuilds");
        };
        assert_eq!(graph.name, "Block");
        assert_eq!(graph.weights[0].path, "inner_0.linear_0.weight");
        assert!(Signature::parse(quote!("another version" ok X {})).is_err());
        assert!(Signature::parse(quote!(#FORMAT ok X)).is_err());
        assert!(matches!(
            Signature::parse(quote!(#FORMAT failed)).unwrap().graph(),
            Ok(Nested::Failed)
        ));
    }
}

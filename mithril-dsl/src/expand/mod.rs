//! Code generation: each model's items ([`items`], laid out by [`layout`],
//! with its spec as static data from [`spec`]) and its signature macro.

mod instance;
mod items;
mod layout;
mod spec;

use std::sync::Arc;

use mithril_core::graph::{Graph, Nested, Op, OutlineKind};
use mithril_core::layers::LAYER_ITSELF;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::ast::ModelDef;
use crate::check::Checked;
use crate::ir::{ModelIr, local_index, path_key};
use crate::link::{self, Externals};
use crate::names::{self, LayerName, LayerStructs, ModelLayers};

use layout::Paths;

/// Whether model `i` is the first of its name (a second definition is an
/// error; only the first expands).
fn first_of_name(models: &[ModelIr], i: usize) -> bool {
    !models[..i]
        .iter()
        .any(|m| m.spec.name == models[i].spec.name)
}

/// The items and signature macros of every model of the block, after the check.
pub fn block(
    defs: &[ModelDef],
    models: &[ModelIr],
    checked: &Checked,
    externals: &Externals,
) -> TokenStream {
    let signatures = link::signatures(defs, models, &checked.ok, externals);
    let mut out = TokenStream::new();
    for (i, (def, model)) in defs.iter().zip(models).enumerate() {
        if !first_of_name(models, i) {
            continue;
        }
        if model.instance {
            out.extend(instance::render(def, model, checked.graphs[i].as_deref()));
            let kind = if checked.ok[i] { "model" } else { "failed" };
            let hidden = names::hidden(kind, &def.name, &def.body);
            out.extend(link::signature_macro(def, &hidden, &signatures[i]));
            continue;
        }
        let family = checked.families[i].as_ref();
        let (layout, parts) = match (&checked.graphs[i], &checked.outlines[i], family) {
            (Some(graph), _, _) => (
                layout::of_graph(i, model, graph, &checked.structs),
                Some(match family {
                    Some(_) => default_parts(model, graph),
                    None => checked_parts(model, graph),
                }),
            ),
            (None, Some(outline), _) => (
                layout::of_outline(i, model, outline, &checked.structs, Paths::All),
                None,
            ),
            (None, None, _) => continue,
        };
        let nesting = match (family, &parts) {
            (Some(_), _) => items::Nesting::Family {
                template: template_tokens(model),
                defaults: parts.is_some(),
                params: model.spec.params.to_vec(),
            },
            (None, Some(_)) => items::Nesting::Graph,
            (None, None) => items::Nesting::Failed,
        };
        out.extend(items::render(def, &layout, parts.as_ref(), &nesting));
        let kind = if checked.ok[i] { "model" } else { "failed" };
        let hidden = names::hidden(kind, &def.name, &def.body);
        out.extend(link::signature_macro(def, &hidden, &signatures[i]));
    }
    out
}

/// Items for every model of a block that failed to parse: no shapes, no
/// signatures (another block using one of its models finds none).
pub fn unchecked(defs: &[ModelDef], models: &[ModelIr]) -> TokenStream {
    stand_ins(defs, models, false)
}

/// The first step of a block that uses models of other blocks: fallback
/// items for each model, in a hidden module whose glob import the real
/// items of the second step shadow. They name nothing of the user's, so
/// they compile whatever the paths in the block refer to.
pub fn pending(defs: &[ModelDef], models: &[ModelIr]) -> TokenStream {
    stand_ins(defs, models, true)
}

fn stand_ins(defs: &[ModelDef], models: &[ModelIr], hidden_module: bool) -> TokenStream {
    let cyclic = crate::check::cyclic(models);
    let lookup = |key: &str| match local_index(models, key) {
        Some(m) if !cyclic[m] => Some(Nested::Failed),
        _ => None,
    };
    let outlines: Vec<_> = models
        .iter()
        .map(|m| Graph::outline(&m.spec, &lookup))
        .collect();
    let layers: Vec<_> = models
        .iter()
        .zip(&outlines)
        .enumerate()
        .map(|(i, (m, outline))| {
            let mut layers: Vec<LayerName> = Vec::new();
            for n in outline {
                let has_params = matches!(&n.kind, OutlineKind::Layer { weights, .. }
                    if !weights.is_empty() && weights[..] != [LAYER_ITSELF]);
                if has_params
                    && first_of_name(models, i)
                    && !layers.iter().any(|l| l.name == n.name)
                {
                    layers.push(LayerName {
                        source: n.source,
                        name: n.name.clone(),
                        user: m.spec.nodes[n.source].name.is_some(),
                    });
                }
            }
            ModelLayers {
                model: m.name.clone(),
                layers,
            }
        })
        .collect();
    // Collisions are reported by the check of the second step.
    let (structs, _) = LayerStructs::assign(&layers);
    let mut out = TokenStream::new();
    for (i, (def, model)) in defs.iter().zip(models).enumerate() {
        if !first_of_name(models, i) {
            continue;
        }
        let paths = if hidden_module {
            Paths::Own
        } else {
            Paths::All
        };
        if model.instance {
            // In the first step the family's path may not resolve yet, and
            // nothing refers to the fallback items of an instance.
            if !hidden_module {
                out.extend(instance::render(def, model, None));
            }
            continue;
        }
        let layout = layout::of_outline(i, model, &outlines[i], &structs, paths);
        if !hidden_module {
            out.extend(items::render(def, &layout, None, &items::Nesting::Failed));
            continue;
        }
        let public = ModelDef {
            vis: syn::parse_quote!(pub),
            ..instance::stand_in(def)
        };
        let items = items::render(&public, &layout, None, &items::Nesting::Failed);
        out.extend(hide(true, def, items));
    }
    out
}

/// Fallback items in a hidden module whose glob import real items shadow.
fn hide(hidden_module: bool, def: &ModelDef, items: TokenStream) -> TokenStream {
    if !hidden_module {
        return items;
    }
    let module = names::hidden("pending", &def.name, &def.body);
    let vis = &def.vis;
    quote! {
        #[doc(hidden)]
        #[allow(dead_code, missing_docs, non_snake_case, unreachable_code, clippy::all)]
        mod #module {
            #items
        }
        #[allow(unused_imports)]
        #vis use #module::*;
    }
}

/// The body of a family's `template()`: its spec as static data, the
/// tables of what its layers name.
fn template_tokens(model: &ModelIr) -> TokenStream {
    let p = quote!(::mithril::__private);
    let spec = spec::tokens(&model.spec);
    let (nested, customs) = tables(
        model,
        model.spec.nodes.iter().enumerate().map(|(i, n)| {
            let nested = !n.layer.starts_with(mithril_core::family::LAYER_PARAM)
                && (n.layer.contains("::") || mithril_core::layers::info(&n.layer).is_none());
            (i, nested)
        }),
    );
    quote! {
        static SPEC: #p::ModelSpec = #spec;
        static NESTED: &[(&str, #p::NestedFn)] = &[#(#nested),*];
        #p::build_template(&SPEC, NESTED, &[#(#customs),*])
    }
}

/// The tables of nested models (by key) and custom ops (by path) of the
/// nodes given as (source index, whether it nests a model).
fn tables(
    model: &ModelIr,
    nodes: impl Iterator<Item = (usize, bool)>,
) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let p = quote!(::mithril::__private);
    let mut nested_keys: Vec<&str> = Vec::new();
    let mut nested = Vec::new();
    let mut custom_keys: Vec<String> = Vec::new();
    let mut customs = Vec::new();
    for (source, is_model) in nodes {
        let Some(tokens) = model.nodes.get(source) else {
            continue;
        };
        let key = &*model.spec.nodes[source].layer;
        if is_model && !nested_keys.contains(&key) {
            nested_keys.push(key);
            let path = &tokens.layer;
            nested.push(quote!((#key, <#path as #p::Nestable>::nested as #p::NestedFn)));
        }
        if let Some(path) = &tokens.function {
            let key = path_key(path);
            if !custom_keys.contains(&key) {
                // An unknown function is reported at its name.
                let span = path
                    .segments
                    .last()
                    .map_or(Span::call_site(), |s| s.ident.span());
                customs.push(quote_spanned!(span=> (#key, #p::custom_op(#path))));
                custom_keys.push(key);
            }
        }
    }
    (nested, customs)
}

/// The consts and the `graph()` of a family with defaults for every
/// parameter: its default instantiation.
fn default_parts(model: &ModelIr, graph: &Arc<Graph>) -> items::Checked {
    let p = quote!(::mithril::__private);
    let mut parts = checked_parts(model, graph);
    parts.graph = quote! {
        static GRAPH: #p::OnceLock<#p::Arc<#p::Graph>> = #p::OnceLock::new();
        GRAPH.get_or_init(|| #p::build_instance(<Self as #p::Nestable>::nested(), &[]))
    };
    parts
}

/// The consts and the `graph()` of a model that checked.
fn checked_parts(model: &ModelIr, graph: &Arc<Graph>) -> items::Checked {
    let p = quote!(::mithril::__private);
    let spec = spec::tokens(&model.spec);
    let (nested, customs) = tables(
        model,
        graph
            .nodes
            .iter()
            .map(|n| (n.source, matches!(n.op, Op::Model(_)))),
    );
    items::Checked {
        graph: quote! {
            static SPEC: #p::ModelSpec = #spec;
            static GRAPH: #p::OnceLock<#p::Arc<#p::Graph>> = #p::OnceLock::new();
            GRAPH.get_or_init(|| #p::build_graph(&SPEC, &[#(#nested),*], &[#(#customs),*]))
        },
        parameter_count: graph.parameter_count(),
        input_shapes: graph
            .inputs
            .iter()
            .map(|i| (i.name.clone(), i.shape.to_string()))
            .collect(),
        output_shapes: graph
            .outputs
            .iter()
            .map(|o| (o.name.clone(), o.shape.to_string()))
            .collect(),
    }
}

/// The block's `const` items, with the values the macro computed; in the
/// first step of a block that uses other blocks' models, in a hidden
/// module that the second step's items shadow.
pub fn constants(
    defs: &[crate::ast::ConstDef],
    values: &crate::ir::Constants,
    hidden_module: bool,
) -> TokenStream {
    use mithril_core::args::ArgValue;
    let items = defs.iter().filter_map(|def| {
        let name = crate::ir::text(&def.name);
        let value = values.iter().find(|(n, _)| **n == *name).map(|(_, v)| v)?;
        let literal = match value {
            ArgValue::Int(n) => {
                let ty = &def.ty;
                let n = proc_macro2::Literal::i128_unsuffixed(i128::from(*n));
                quote!(#n as #ty)
            }
            ArgValue::Float(x) => {
                let x = proc_macro2::Literal::f64_suffixed(*x);
                quote!(#x)
            }
            ArgValue::Bool(b) => quote!(#b),
            _ => return None,
        };
        let (attrs, vis, ident, ty) = (&def.attrs, &def.vis, &def.name, &def.ty);
        Some(quote! {
            #(#attrs)*
            #vis const #ident: #ty = #literal;
        })
    });
    let items = quote!(#(#items)*);
    let Some(first) = defs.first().filter(|_| hidden_module) else {
        return items;
    };
    let module = names::hidden("pending", &first.name, &items);
    quote! {
        #[doc(hidden)]
        #[allow(dead_code, missing_docs, non_snake_case, clippy::all)]
        mod #module {
            #[allow(unused_imports)]
            use super::*;
            #items
        }
        #[allow(unused_imports)]
        pub use #module::*;
    }
}

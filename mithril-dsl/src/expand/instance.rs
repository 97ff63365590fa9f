//! The items of `pub Name = Family(args);`: a model whose graph is the
//! family's instantiation, and whose parameters, inputs and outputs are the
//! family's types.

use mithril_core::graph::Graph;
use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::ModelDef;
use crate::ir::ModelIr;

/// A definition with `def`'s name and attributes and nothing else, for
/// fallback items.
pub fn stand_in(def: &ModelDef) -> ModelDef {
    ModelDef {
        attrs: Vec::new(),
        vis: def.vis.clone(),
        name: def.name.clone(),
        params: Vec::new(),
        header: TokenStream::new(),
        instance: None,
        consts: TokenStream::new(),
        body: TokenStream::new(),
        stmts: Vec::new(),
    }
}

/// The instance's items; with no graph (it failed), the same items with
/// placeholder consts and a `graph()` that cannot run.
pub fn render(def: &ModelDef, model: &ModelIr, graph: Option<&Graph>) -> TokenStream {
    let p = quote!(::mithril::__private);
    let name = &def.name;
    let vis = &def.vis;
    let attrs = &def.attrs;
    let name_str = crate::ir::text(name).to_string();
    let (Some(node), Some(tokens)) = (model.spec.nodes.first(), model.nodes.first()) else {
        return TokenStream::new();
    };
    let family = &tokens.layer;
    let types = quote!(<#family as ::mithril::Family>);
    let args = node.args.iter().map(|a| {
        let name = match &a.name {
            Some(n) => {
                let n = &**n;
                quote!(::std::option::Option::Some(::std::borrow::Cow::Borrowed(#n)))
            }
            None => quote!(::std::option::Option::None),
        };
        let value = super::spec::arg_value(&a.value);
        quote!(#p::ArgSpec { name: #name, value: #value })
    });
    let (body, nested, count, input_shapes, output_shapes) = match graph {
        Some(g) => {
            let shapes = |list: Vec<(String, String)>| {
                let (n, s): (Vec<String>, Vec<String>) = list.into_iter().unzip();
                quote!(&[#((#n, #s)),*])
            };
            (
                quote! {
                    static ARGS: &[#p::ArgSpec] = &[#(#args),*];
                    static GRAPH: #p::OnceLock<#p::Arc<#p::Graph>> = #p::OnceLock::new();
                    GRAPH.get_or_init(|| #p::build_instance(<#family as #p::Nestable>::nested(), ARGS))
                },
                quote!(#p::Nested::Model(#p::Arc::clone(<Self as ::mithril::Model>::graph()))),
                g.parameter_count(),
                shapes(
                    g.inputs
                        .iter()
                        .map(|i| (i.name.clone(), i.shape.to_string()))
                        .collect(),
                ),
                shapes(
                    g.outputs
                        .iter()
                        .map(|o| (o.name.clone(), o.shape.to_string()))
                        .collect(),
                ),
            )
        }
        None => {
            let message = format!("model `{name_str}` did not compile");
            (
                quote!(::std::unreachable!(#message)),
                quote!(#p::Nested::Failed),
                0,
                quote!(&[]),
                quote!(&[]),
            )
        }
    };
    let model_items = super::items::model_items(
        name,
        &super::items::ModelTypes {
            params: quote!(#types::Params),
            inputs: quote!(#types::Inputs),
            outputs: quote!(#types::Outputs),
        },
        &body,
        count,
        (input_shapes, output_shapes),
    );
    let call = node.call_text();
    let doc = format!(
        " `{call}`: an instance of the model family `{}`.",
        node.layer
    );
    let doc = (attrs.is_empty()).then(|| quote!(#[doc = #doc]));
    quote! {
        #(#attrs)*
        #doc
        #[derive(::std::clone::Clone, ::std::marker::Copy, ::std::fmt::Debug, ::std::default::Default)]
        #vis struct #name;

        impl #p::Nestable for #name {
            fn nested() -> #p::Nested {
                #nested
            }
        }

        #model_items
    }
}

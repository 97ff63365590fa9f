//! Code generation: the model struct, its typed parameters, inputs and
//! outputs, and the `Model` implementation that hands the runtime the spec.

use mithril_core::args::{ArgSpec, ArgValue};
use mithril_core::graph::{DimSpec, Graph, ModelSpec, Op, ValueRef};
use mithril_core::layers::Layer;
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use crate::ast::ModelDef;
use crate::lower::Lowered;

/// `fc1` in `Classifier` -> `ClassifierFc1Params`.
fn layer_params_ident(model: &Ident, node: &str) -> Ident {
    let camel: String = node
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    format_ident!("{}{}Params", model, camel)
}

fn field(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// The field of a layer's weight in its params struct: the weight's name
/// within the layer, lowercase, dots as underscores (`fc1.weight` -> `weight`,
/// `attn.query_proj.weight` -> `query_proj_weight`, `lstm.Wx` -> `wx`,
/// `mix.0.bias` -> `bias`).
fn weight_field(path: &str, node: &str, repeat: usize) -> String {
    let local = path
        .strip_prefix(node)
        .and_then(|p| p.strip_prefix('.'))
        .unwrap_or(path);
    let local = if repeat > 1 {
        local.split_once('.').map_or(local, |(_, rest)| rest)
    } else {
        local
    };
    local.replace('.', "_").to_ascii_lowercase()
}

/// The expansion of one model that checked.
pub fn model(
    def: &ModelDef,
    lowered: &Lowered,
    graph: &Graph,
    local_models: &[String],
) -> TokenStream {
    let name = &def.name;
    let vis = &def.vis;
    let attrs = &def.attrs;
    let params = format_ident!("{}Params", name);
    let inputs_ty = format_ident!("{}Inputs", name);
    let outputs_ty = format_ident!("{}Outputs", name);
    let p = quote!(::mithril::__private);

    // Parameters: a field per node that owns any.
    let mut layer_structs = Vec::new();
    let mut fields = Vec::new();
    let mut visits = Vec::new();
    let mut visits_mut = Vec::new();
    let mut builds = Vec::new();
    for node in &graph.nodes {
        if node.weights.is_empty() {
            continue;
        }
        let f = field(&node.name);
        let ty = match &node.op {
            Op::Model(sub) => {
                let sub = Ident::new(&sub.name, Span::call_site());
                quote!(<#sub as ::mithril::Model>::Params)
            }
            Op::Layer(layer) => {
                let ty = layer_params_ident(name, &node.name);
                let per_application = node.weights.len() / node.repeat;
                let names: Vec<Ident> = graph.weights
                    [node.weights.start..node.weights.start + per_application]
                    .iter()
                    .map(|w| field(&weight_field(&w.path, &node.name, node.repeat)))
                    .collect();
                let doc = format!(
                    "Parameters of layer `{}` (`{}`) of [`{}`].",
                    node.name, node.call, name
                );
                let shapes: Vec<String> = graph.weights
                    [node.weights.start..node.weights.start + per_application]
                    .iter()
                    .map(|w| format!("`{:?}` (mlx.nn layout of `{}`)", w.shape, layer.name()))
                    .collect();
                let field_docs = shapes.iter().map(|s| format!("Shape {s}."));
                layer_structs.push(quote! {
                    #[doc = #doc]
                    #[derive(Clone, Debug)]
                    #vis struct #ty {
                        #( #[doc = #field_docs] pub #names: #p::Array, )*
                    }

                    impl ::mithril::Params for #ty {
                        fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a #p::Array)) {
                            #( f(&self.#names); )*
                        }
                        fn visit_mut(&mut self, f: &mut dyn FnMut(&mut #p::Array)) {
                            #( f(&mut self.#names); )*
                        }
                        fn from_arrays(arrays: &mut dyn Iterator<Item = #p::Array>) -> Option<Self> {
                            Some(Self { #( #names: arrays.next()?, )* })
                        }
                    }
                });
                quote!(#ty)
            }
        };
        let doc = format!("`{}`: `{}`.", node.name, node.call);
        if node.repeat > 1 {
            let n = node.repeat;
            fields.push(quote!(#[doc = #doc] pub #f: ::std::vec::Vec<#ty>));
            visits.push(quote!(for item in &self.#f { ::mithril::Params::visit(item, f); }));
            visits_mut
                .push(quote!(for item in &mut self.#f { ::mithril::Params::visit_mut(item, f); }));
            builds.push(quote!(#f: (0..#n).map(|_| <#ty as ::mithril::Params>::from_arrays(arrays)).collect::<Option<::std::vec::Vec<_>>>()?));
        } else {
            fields.push(quote!(#[doc = #doc] pub #f: #ty));
            visits.push(quote!(::mithril::Params::visit(&self.#f, f);));
            visits_mut.push(quote!(::mithril::Params::visit_mut(&mut self.#f, f);));
            builds.push(quote!(#f: <#ty as ::mithril::Params>::from_arrays(arrays)?));
        }
    }

    let input_names: Vec<Ident> = graph.inputs.iter().map(|i| field(&i.name)).collect();
    let input_docs: Vec<String> = graph
        .inputs
        .iter()
        .map(|i| format!("Shape `{}`.", i.shape))
        .collect();
    let input_strs: Vec<String> = graph.inputs.iter().map(|i| i.name.clone()).collect();
    let input_shapes: Vec<String> = graph.inputs.iter().map(|i| i.shape.to_string()).collect();
    let output_names: Vec<Ident> = graph.outputs.iter().map(|o| field(&o.name)).collect();
    let output_docs: Vec<String> = graph
        .outputs
        .iter()
        .map(|o| format!("Shape `{}`.", o.shape))
        .collect();
    let output_strs: Vec<String> = graph.outputs.iter().map(|o| o.name.clone()).collect();
    let output_shapes: Vec<String> = graph.outputs.iter().map(|o| o.shape.to_string()).collect();
    let parameter_count = graph.parameter_count();
    let name_str = name.to_string();

    let spec = spec_tokens(&lowered.spec);
    let nested: Vec<TokenStream> = graph
        .nodes
        .iter()
        .filter_map(|n| match &n.op {
            Op::Model(g) if local_models.contains(&g.name) => Some(g.name.clone()),
            _ => None,
        })
        .map(|sub| {
            let ident = Ident::new(&sub, Span::call_site());
            quote!((#sub, <#ident as ::mithril::Model>::graph as fn() -> &'static #p::Arc<#p::Graph>))
        })
        .collect();
    let customs: Vec<TokenStream> = graph
        .nodes
        .iter()
        .filter_map(|n| match &n.op {
            Op::Layer(Layer::Lambda(l)) => {
                let path = lowered.nodes[n.source].function.as_ref()?;
                let key = l.function.to_string();
                Some(quote_spanned!(path.segments.last().map_or(Span::call_site(), |s| s.ident.span())=> (#key, #p::custom_op(#path))))
            }
            _ => None,
        })
        .collect();

    let params_doc = format!(
        "Parameters of [`{name}`]: a field per layer that has any ({parameter_count} scalars in all). Gradients have the same type."
    );
    let inputs_doc = format!("Inputs of [`{name}`].");
    let outputs_doc = format!("Outputs of [`{name}`].");

    quote! {
        #(#attrs)*
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #name;

        #[doc = #params_doc]
        #[derive(Clone, Debug)]
        #vis struct #params {
            #(#fields,)*
        }

        #(#layer_structs)*

        impl ::mithril::Params for #params {
            fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a #p::Array)) {
                #(#visits)*
            }
            fn visit_mut(&mut self, f: &mut dyn FnMut(&mut #p::Array)) {
                #(#visits_mut)*
            }
            fn from_arrays(arrays: &mut dyn Iterator<Item = #p::Array>) -> Option<Self> {
                Some(Self { #(#builds,)* })
            }
        }

        #[doc = #inputs_doc]
        #[derive(Clone, Debug)]
        #vis struct #inputs_ty {
            #( #[doc = #input_docs] pub #input_names: #p::Array, )*
        }

        impl ::mithril::Values for #inputs_ty {
            const NAMES: &'static [&'static str] = &[#(#input_strs),*];
            fn arrays(&self) -> ::std::vec::Vec<&#p::Array> {
                vec![#(&self.#input_names),*]
            }
            fn from_arrays(arrays: ::std::vec::Vec<#p::Array>) -> Option<Self> {
                let mut arrays = arrays.into_iter();
                Some(Self { #( #input_names: arrays.next()?, )* })
            }
        }

        #[doc = #outputs_doc]
        #[derive(Clone, Debug)]
        #vis struct #outputs_ty {
            #( #[doc = #output_docs] pub #output_names: #p::Array, )*
        }

        impl ::mithril::Values for #outputs_ty {
            const NAMES: &'static [&'static str] = &[#(#output_strs),*];
            fn arrays(&self) -> ::std::vec::Vec<&#p::Array> {
                vec![#(&self.#output_names),*]
            }
            fn from_arrays(arrays: ::std::vec::Vec<#p::Array>) -> Option<Self> {
                let mut arrays = arrays.into_iter();
                Some(Self { #( #output_names: arrays.next()?, )* })
            }
        }

        impl ::mithril::Model for #name {
            const NAME: &'static str = #name_str;
            type Params = #params;
            type Inputs = #inputs_ty;
            type Outputs = #outputs_ty;

            fn graph() -> &'static #p::Arc<#p::Graph> {
                static GRAPH: #p::OnceLock<#p::Arc<#p::Graph>> = #p::OnceLock::new();
                GRAPH.get_or_init(|| {
                    #p::build_graph(#spec, &[#(#nested),*], &[#(#customs),*])
                })
            }
        }

        impl #name {
            /// Number of scalar parameters.
            pub const PARAMETER_COUNT: usize = #parameter_count;
            /// Declared inputs and their shapes.
            pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[#((#input_strs, #input_shapes)),*];
            /// Outputs and their inferred shapes.
            pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[#((#output_strs, #output_shapes)),*];

            /// A table of every layer: name, kind, output shape, parameter count, and totals.
            pub fn summary() -> ::std::string::String {
                <Self as ::mithril::Model>::graph().summary()
            }

            /// Fresh parameters with mlx.nn's default initialisation, from the backend's seed and dtype.
            pub fn init(backend: &::mithril::MlxBackend) -> ::std::result::Result<#params, ::mithril::Error> {
                ::mithril::init::<Self>(backend)
            }

            /// Runs the model eagerly. Inputs are checked against the declared shapes first.
            pub fn forward(params: &#params, inputs: &#inputs_ty) -> ::std::result::Result<#outputs_ty, ::mithril::Error> {
                ::mithril::forward::<Self>(params, inputs)
            }
        }
    }
}

/// Stand-ins for a model that did not check, so that code using it does not
/// pile further errors on top of the real one.
pub fn stub(def: &ModelDef, lowered: &Lowered) -> TokenStream {
    let name = &def.name;
    let vis = &def.vis;
    let attrs = &def.attrs;
    let params = format_ident!("{}Params", name);
    let inputs_ty = format_ident!("{}Inputs", name);
    let outputs_ty = format_ident!("{}Outputs", name);
    let p = quote!(::mithril::__private);
    // Each name once: a name given twice is an error reported already, and a
    // duplicate field would only add a second error about generated code.
    let unique = |names: &[Ident]| {
        let mut seen: Vec<Ident> = Vec::new();
        for n in names {
            if !seen.contains(n) {
                seen.push(n.clone());
            }
        }
        seen
    };
    let input_names = unique(&lowered.inputs);
    let output_names = unique(&lowered.outputs);
    quote! {
        #(#attrs)*
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #name;
        #[derive(Clone, Debug)]
        #vis struct #params {}
        #[derive(Clone, Debug)]
        #vis struct #inputs_ty { #( pub #input_names: #p::Array, )* }
        #[derive(Clone, Debug)]
        #vis struct #outputs_ty { #( pub #output_names: #p::Array, )* }
        impl #name {
            pub const PARAMETER_COUNT: usize = 0;
            pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = &[];
            pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = &[];
            pub fn summary() -> ::std::string::String { unreachable!() }
            pub fn init(_: &::mithril::MlxBackend) -> ::std::result::Result<#params, ::mithril::Error> { unreachable!() }
            pub fn forward(_: &#params, _: &#inputs_ty) -> ::std::result::Result<#outputs_ty, ::mithril::Error> { unreachable!() }
        }
    }
}

fn str_tokens(s: &str) -> TokenStream {
    quote!(::std::borrow::Cow::Borrowed(#s))
}

fn list_tokens(items: Vec<TokenStream>) -> TokenStream {
    quote!(::std::borrow::Cow::Owned(vec![#(#items),*]))
}

fn arg_value_tokens(v: &ArgValue) -> TokenStream {
    let p = quote!(::mithril::__private::ArgValue);
    match v {
        ArgValue::Int(n) => {
            let n = Literal::i64_suffixed(*n);
            quote!(#p::Int(#n))
        }
        ArgValue::Float(x) => {
            let x = Literal::f64_suffixed(*x);
            quote!(#p::Float(#x))
        }
        ArgValue::Bool(b) => quote!(#p::Bool(#b)),
        ArgValue::Ident(s) => {
            let s = str_tokens(s);
            quote!(#p::Ident(#s))
        }
        ArgValue::Path(s) => {
            let s = str_tokens(s);
            quote!(#p::Path(#s))
        }
        ArgValue::List(items) => {
            let items = list_tokens(items.iter().map(arg_value_tokens).collect());
            quote!(#p::List(#items))
        }
        ArgValue::Tuple(items) => {
            let items = list_tokens(items.iter().map(arg_value_tokens).collect());
            quote!(#p::Tuple(#items))
        }
    }
}

fn option_str(s: &Option<std::borrow::Cow<'static, str>>) -> TokenStream {
    match s {
        Some(s) => {
            let s = str_tokens(s);
            quote!(Some(#s))
        }
        None => quote!(None),
    }
}

/// An expression that rebuilds `spec` at run time.
fn spec_tokens(spec: &ModelSpec) -> TokenStream {
    let p = quote!(::mithril::__private);
    let name = str_tokens(&spec.name);
    let inputs = list_tokens(
        spec.inputs
            .iter()
            .map(|i| {
                let n = str_tokens(&i.name);
                let dims = list_tokens(
                    i.dims
                        .iter()
                        .map(|d| match d {
                            DimSpec::Lit(v) => quote!(#p::DimSpec::Lit(#v)),
                            DimSpec::Sym(s) => {
                                let s = str_tokens(s);
                                quote!(#p::DimSpec::Sym(#s))
                            }
                        })
                        .collect(),
                );
                quote!(#p::InputSpec { name: #n, dims: #dims })
            })
            .collect(),
    );
    let nodes = list_tokens(
        spec.nodes
            .iter()
            .map(|n| {
                let name = option_str(&n.name);
                let layer = str_tokens(&n.layer);
                let args = list_tokens(
                    n.args
                        .iter()
                        .map(|ArgSpec { name, value }| {
                            let name = option_str(name);
                            let value = arg_value_tokens(value);
                            quote!(#p::ArgSpec { name: #name, value: #value })
                        })
                        .collect(),
                );
                let inputs = list_tokens(
                    n.inputs
                        .iter()
                        .map(|r| match r {
                            ValueRef::Named(s) => {
                                let s = str_tokens(s);
                                quote!(#p::ValueRef::Named(#s))
                            }
                            ValueRef::Node(i) => quote!(#p::ValueRef::Node(#i)),
                        })
                        .collect(),
                );
                let output = option_str(&n.output);
                let repeat = n.repeat;
                quote!(#p::NodeSpec { name: #name, layer: #layer, args: #args, inputs: #inputs, output: #output, repeat: #repeat })
            })
            .collect(),
    );
    let outputs = list_tokens(spec.outputs.iter().map(|o| str_tokens(o)).collect());
    quote!(&#p::ModelSpec { name: #name, inputs: #inputs, nodes: #nodes, outputs: #outputs })
}

//! The items of one model, from its [`Layout`]: the model struct, its
//! parameters, inputs and outputs with their trait impls, and the
//! associated consts and functions. A model that failed gets the same
//! items with placeholder consts and a `graph()` that cannot run (the
//! crate does not build), like thiserror's fallback impls.
//!
//! Generated code is linear in the model: `from_arrays` binds each field in
//! a statement of its own (a `?` inside a struct literal gives every field
//! its own exit path, which the optimiser's work grows with quadratically).

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::ast::ModelDef;
use crate::names;

use super::layout::{Layout, ParamField, ValueField};

/// What only a model that checked has.
pub struct Checked {
    /// The body of `Model::graph()`.
    pub graph: TokenStream,
    pub parameter_count: usize,
    pub input_shapes: Vec<(String, String)>,
    pub output_shapes: Vec<(String, String)>,
}

/// A doc attribute's text, as `/// text` writes it.
fn doc(text: &str) -> String {
    format!(" {text}")
}

/// [`doc`], or nothing for no text.
fn doc_line(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        doc(text)
    }
}

/// `let __p0 = ...?;` locals, apart from any user name.
fn local(prefix: &str, i: usize) -> Ident {
    format_ident!("__{}{}", prefix, i, span = Span::mixed_site())
}

/// How many applications a field holds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// This many (`Layer * 3`; 1 for a plain field).
    Fixed(usize),
    /// As many as the instantiation of a family makes (`Block * layers`).
    Dynamic,
}

impl Count {
    /// Whether the field is a `Vec`.
    pub fn is_vec(self) -> bool {
        self != Count::Fixed(1)
    }
}

/// A field of a parameter tree: its ident, its path segment, its type of
/// one application (empty for an array) and its count.
pub struct TreeField {
    pub ident: Ident,
    pub segment: String,
    pub ty: TokenStream,
    pub count: Count,
}

/// `Params` for a struct of arrays or of nested parameter trees.
fn params_impl(ty: &Ident, fields: &[TreeField]) -> TokenStream {
    let p = quote!(::mithril::__private);
    let visits = fields.iter().map(
        |TreeField {
             ident: f,
             ty: t,
             count,
             ..
         }| {
            match (t.is_empty(), count.is_vec()) {
                (true, _) => quote!(f(&self.#f);),
                (false, false) => quote!(::mithril::Params::visit(&self.#f, f);),
                (false, true) => {
                    quote!(for item in &self.#f { ::mithril::Params::visit(item, f); })
                }
            }
        },
    );
    let visits_mut = fields.iter().map(
        |TreeField {
             ident: f,
             ty: t,
             count,
             ..
         }| {
            match (t.is_empty(), count.is_vec()) {
                (true, _) => quote!(f(&mut self.#f);),
                (false, false) => quote!(::mithril::Params::visit_mut(&mut self.#f, f);),
                (false, true) => {
                    quote!(for item in &mut self.#f { ::mithril::Params::visit_mut(item, f); })
                }
            }
        },
    );
    let locals: Vec<Ident> = (0..fields.len()).map(|i| local("p", i)).collect();
    let takes = fields.iter().zip(&locals).map(|(field, l)| {
        let (t, segment) = (&field.ty, &field.segment);
        match (t.is_empty(), field.count) {
            (true, _) => quote!(let #l = arrays.take()?;),
            (false, Count::Fixed(1)) => quote!(let #l = arrays.field::<#t>(#segment)?;),
            (false, Count::Fixed(n)) => quote!(let #l = arrays.fixed::<#t>(#segment, #n)?;),
            (false, Count::Dynamic) => quote!(let #l = arrays.repeated::<#t>(#segment)?;),
        }
    });
    let names = fields.iter().map(|f| &f.ident);
    let (f, arrays) = if fields.is_empty() {
        (quote!(_f), quote!(_arrays))
    } else {
        (quote!(f), quote!(arrays))
    };
    quote! {
        impl ::mithril::Params for #ty {
            fn visit<'a>(&'a self, #f: &mut dyn FnMut(&'a #p::Array)) {
                #(#visits)*
            }
            fn visit_mut(&mut self, #f: &mut dyn FnMut(&mut #p::Array)) {
                #(#visits_mut)*
            }
            fn read(#arrays: &mut #p::ArrayReader<'_>) -> ::std::option::Option<Self> {
                #(#takes)*
                ::std::option::Option::Some(Self { #(#names: #locals),* })
            }
        }
    }
}

/// A struct of named arrays with `Values`.
fn values_struct(
    vis: &syn::Visibility,
    ty: &Ident,
    text: &str,
    fields: &[ValueField],
) -> TokenStream {
    let p = quote!(::mithril::__private);
    let doc = doc(text);
    let idents: Vec<&Ident> = fields.iter().map(|f| &f.ident).collect();
    let names = fields.iter().map(|f| &f.name);
    let docs = fields.iter().map(|f| doc_line(&f.doc));
    let locals: Vec<Ident> = (0..fields.len()).map(|i| local("v", i)).collect();
    let arrays = if fields.is_empty() {
        quote!(_arrays)
    } else {
        quote!(arrays)
    };
    quote! {
        #[doc = #doc]
        #[derive(::std::clone::Clone, ::std::fmt::Debug)]
        #vis struct #ty {
            #( #[doc = #docs] pub #idents: #p::Array, )*
        }

        impl ::mithril::Values for #ty {
            const NAMES: &'static [&'static str] = &[#(#names),*];
            fn arrays(&self) -> ::std::vec::Vec<&#p::Array> {
                ::std::vec![#(&self.#idents),*]
            }
            fn from_arrays(#arrays: ::std::vec::Vec<#p::Array>) -> ::std::option::Option<Self> {
                #[allow(unused_mut, unused_variables)]
                let mut arrays = #arrays.into_iter();
                #( let #locals = arrays.next()?; )*
                ::std::option::Option::Some(Self { #(#idents: #locals),* })
            }
        }
    }
}

/// A model's parameter, input and output types as generated code names them.
pub struct ModelTypes {
    pub params: TokenStream,
    pub inputs: TokenStream,
    pub outputs: TokenStream,
}

/// `impl Model` and the consts and functions every model type has
/// (`PARAMETER_COUNT`, `summary`, `init`, `forward`): those of a model, a
/// family with defaults and an instance alike, given the body of
/// `graph()`, the parameter count and the shape consts' values as tokens.
pub fn model_items(
    name: &Ident,
    types: &ModelTypes,
    graph: &TokenStream,
    parameter_count: usize,
    (input_shapes, output_shapes): (TokenStream, TokenStream),
) -> TokenStream {
    let p = quote!(::mithril::__private);
    let name_str = crate::ir::text(name).to_string();
    let ModelTypes {
        params,
        inputs,
        outputs,
    } = types;
    quote! {
        impl ::mithril::Model for #name {
            const NAME: &'static str = #name_str;
            type Params = #params;
            type Inputs = #inputs;
            type Outputs = #outputs;

            fn graph() -> &'static #p::Arc<#p::Graph> {
                #graph
            }
        }

        impl #name {
            /// Number of scalar parameters.
            pub const PARAMETER_COUNT: usize = #parameter_count;
            /// Declared inputs and their shapes.
            pub const INPUT_SHAPES: &'static [(&'static str, &'static str)] = #input_shapes;
            /// Outputs and their inferred shapes.
            pub const OUTPUT_SHAPES: &'static [(&'static str, &'static str)] = #output_shapes;

            /// A table of every layer: name, kind, output shape, parameter count, and totals.
            pub fn summary() -> ::std::string::String {
                <Self as ::mithril::Model>::graph().summary()
            }

            /// Fresh parameters with mlx.nn's default initialisation, from the backend's seed and dtype.
            pub fn init(backend: &::mithril::MlxBackend) -> ::std::result::Result<#params, ::mithril::Error> {
                ::mithril::init::<Self>(backend)
            }

            /// Runs the model eagerly. Inputs are checked against the declared shapes first.
            pub fn forward(params: &#params, inputs: &#inputs) -> ::std::result::Result<#outputs, ::mithril::Error> {
                ::mithril::forward::<Self>(params, inputs)
            }
        }
    }
}

/// What a model is to models that nest it, as generated code builds it.
pub enum Nesting {
    /// A model that checked: its graph.
    Graph,
    /// A family: the body of its `template()`, whether it has a default
    /// for every parameter (then it is a model of its own too), and its
    /// parameters (for its run-time config).
    Family {
        template: TokenStream,
        defaults: bool,
        params: Vec<mithril_core::family::ParamSpec>,
    },
    /// A model that failed.
    Failed,
}

/// Every item of the model.
pub fn render(
    def: &ModelDef,
    layout: &Layout,
    checked: Option<&Checked>,
    nesting: &Nesting,
) -> TokenStream {
    let name = &def.name;
    let vis = &def.vis;
    let attrs = &def.attrs;
    let params = names::item(name, "Params");
    let inputs_ty = names::item(name, "Inputs");
    let outputs_ty = names::item(name, "Outputs");
    let name_str = crate::ir::text(name).to_string();
    let p = quote!(::mithril::__private);

    let layer_structs = layout.layer_structs.iter().map(|s| {
        let ident = &s.ident;
        let doc = doc(&s.doc);
        let fields: Vec<&Ident> = s.fields.iter().map(|(f, _)| f).collect();
        let docs = s.fields.iter().map(|(_, d)| doc_line(d));
        let arrays: Vec<TreeField> = fields
            .iter()
            .map(|f| TreeField {
                ident: (*f).clone(),
                segment: String::new(),
                ty: TokenStream::new(),
                count: Count::Fixed(1),
            })
            .collect();
        let imp = params_impl(ident, &arrays);
        quote! {
            #[doc = #doc]
            #[derive(::std::clone::Clone, ::std::fmt::Debug)]
            #vis struct #ident {
                #( #[doc = #docs] pub #fields: #p::Array, )*
            }
            #imp
        }
    });

    let param_fields = layout.params.iter().map(
        |ParamField {
             ident,
             doc: text,
             ty,
             repeat,
             ..
         }| {
            let doc = doc(text);
            let ty = match ty.is_empty() {
                true => quote!(#p::Array),
                false => ty.clone(),
            };
            if repeat.is_vec() {
                quote!(#[doc = #doc] pub #ident: ::std::vec::Vec<#ty>)
            } else {
                quote!(#[doc = #doc] pub #ident: #ty)
            }
        },
    );
    let tree: Vec<TreeField> = layout
        .params
        .iter()
        .map(|f| TreeField {
            ident: f.ident.clone(),
            segment: f.segment.clone(),
            ty: f.ty.clone(),
            count: f.repeat,
        })
        .collect();
    let params_impl = params_impl(&params, &tree);
    let inputs = values_struct(
        vis,
        &inputs_ty,
        &format!("Inputs of [`{name_str}`]."),
        &layout.inputs,
    );
    let outputs = values_struct(
        vis,
        &outputs_ty,
        &format!("Outputs of [`{name_str}`]."),
        &layout.outputs,
    );

    let (graph, parameter_count, input_shapes, output_shapes) = match checked {
        Some(c) => {
            let graph = &c.graph;
            let shapes = |list: &[(String, String)]| {
                let (n, s): (Vec<&String>, Vec<&String>) = list.iter().map(|(a, b)| (a, b)).unzip();
                quote!(&[#((#n, #s)),*])
            };
            (
                graph.clone(),
                c.parameter_count,
                shapes(&c.input_shapes),
                shapes(&c.output_shapes),
            )
        }
        None => {
            let message = format!("model `{name_str}` did not compile");
            (
                quote!(::std::unreachable!(#message)),
                0,
                quote!(&[]),
                quote!(&[]),
            )
        }
    };
    let params_doc = doc(&format!(
        "Parameters of [`{name_str}`]: a field per layer that has any ({parameter_count} scalars in all). Gradients have the same type."
    ));

    let nested = match nesting {
        Nesting::Graph => {
            quote!(#p::Nested::Model(#p::Arc::clone(<Self as ::mithril::Model>::graph())))
        }
        Nesting::Family { template, .. } => quote! {
            static TEMPLATE: #p::OnceLock<#p::Arc<#p::Template>> = #p::OnceLock::new();
            #p::Nested::Family(#p::Arc::clone(TEMPLATE.get_or_init(|| { #template })))
        },
        Nesting::Failed => quote!(#p::Nested::Failed),
    };
    let is_model = !matches!(
        nesting,
        Nesting::Family {
            defaults: false,
            ..
        }
    );
    let config = match nesting {
        Nesting::Family { params, .. } => config(def, params),
        _ => TokenStream::new(),
    };
    // A model is a family through the blanket impl; a family without
    // defaults is only a family.
    let own_family = (!is_model).then(|| {
        quote! {
            impl ::mithril::Family for #name {
                const NAME: &'static str = #name_str;
                type Params = #params;
                type Inputs = #inputs_ty;
                type Outputs = #outputs_ty;
            }
        }
    });
    let model_items = is_model.then(|| {
        model_items(
            name,
            &ModelTypes {
                params: quote!(#params),
                inputs: quote!(#inputs_ty),
                outputs: quote!(#outputs_ty),
            },
            &graph,
            parameter_count,
            (input_shapes, output_shapes),
        )
    });

    quote! {
        #(#attrs)*
        #[derive(::std::clone::Clone, ::std::marker::Copy, ::std::fmt::Debug, ::std::default::Default)]
        #vis struct #name;

        #own_family

        #config

        impl #p::Nestable for #name {
            fn nested() -> #p::Nested {
                #nested
            }
        }

        #model_items

        #[doc = #params_doc]
        #[derive(::std::clone::Clone, ::std::fmt::Debug)]
        #vis struct #params {
            #(#param_fields,)*
        }

        #params_impl

        #(#layer_structs)*

        #inputs

        #outputs

    }
}

/// A family's `<Name>Config` (a field per parameter, `new` with the
/// parameters without defaults, `Default` when every one has a default) and
/// `<Name>::instance(&config)`, for values known only at run time.
fn config(def: &ModelDef, params: &[mithril_core::family::ParamSpec]) -> TokenStream {
    use mithril_core::args::ArgValue;
    use mithril_core::family::ParamType;
    fn literal(v: &ArgValue, t: ParamType) -> TokenStream {
        match (v, t) {
            (ArgValue::Int(n), ParamType::Usize) => {
                let n = proc_macro2::Literal::usize_suffixed(*n as usize);
                quote!(#n)
            }
            (ArgValue::Int(n), ParamType::I64) => {
                let n = proc_macro2::Literal::i64_suffixed(*n);
                quote!(#n)
            }
            (ArgValue::Int(n), _) => {
                let x = proc_macro2::Literal::f64_suffixed(*n as f64);
                quote!(#x)
            }
            (ArgValue::Float(x), _) => {
                let x = proc_macro2::Literal::f64_suffixed(*x);
                quote!(#x)
            }
            (ArgValue::Bool(b), _) => quote!(#b),
            (ArgValue::Ident(s) | ArgValue::Path(s), _) => {
                let s = &**s;
                quote!(::std::string::String::from(#s))
            }
            (ArgValue::List(items), _) => {
                let items = items.iter().map(|v| literal(v, t));
                quote!(::std::vec![#(#items),*])
            }
            _ => quote!(::std::default::Default::default()),
        }
    }
    let name = &def.name;
    let vis = &def.vis;
    let name_str = crate::ir::text(name).to_string();
    let config = names::item(name, "Config");
    let item_ty = |t: ParamType| match t {
        ParamType::Usize => quote!(usize),
        ParamType::I64 => quote!(i64),
        ParamType::F64 => quote!(f64),
        ParamType::Bool => quote!(bool),
        ParamType::Layer => quote!(::std::string::String),
    };
    let fields: Vec<Ident> = params.iter().map(|p| names::field(&p.name)).collect();
    let types: Vec<TokenStream> = params
        .iter()
        .map(|p| {
            let t = item_ty(p.kind.item);
            match p.kind.list {
                true => quote!(::std::vec::Vec<#t>),
                false => t,
            }
        })
        .collect();
    let docs = params.iter().map(|p| {
        let default = match &p.default {
            Some(d) => format!(" (default `{d}`)"),
            None => String::new(),
        };
        doc(&format!("`{}: {}`{default}.", p.name, p.kind))
    });
    let values: Vec<TokenStream> = params
        .iter()
        .zip(&fields)
        .map(|(p, f)| match &p.default {
            Some(d) => literal(d, p.kind.item),
            None => quote!(#f),
        })
        .collect();
    let (required_fields, required_types): (Vec<&Ident>, Vec<&TokenStream>) = params
        .iter()
        .zip(fields.iter().zip(&types))
        .filter(|(p, _)| p.default.is_none())
        .map(|(_, ft)| ft)
        .unzip();
    let default = required_fields.is_empty().then(|| {
        quote! {
            impl ::std::default::Default for #config {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    });
    let keys = params.iter().map(|p| &*p.name);
    let config_doc = doc(&format!(
        "The parameters of [`{name_str}`] as values known at run time (a `config.json`), for [`{name_str}::instance`]."
    ));
    let new_doc = doc(&format!(
        "A config with the parameters [`{name_str}`] has no default for, and the defaults of the others."
    ));
    let instance_doc = doc(&format!(
        "The instantiation of [`{name_str}`] with `config`'s values, every shape checked before anything is allocated: an error lists every problem, each naming its layer, expected and found."
    ));
    let p = quote!(::mithril::__private);
    quote! {
        #[doc = #config_doc]
        #[derive(::std::clone::Clone, ::std::fmt::Debug, ::std::cmp::PartialEq)]
        #vis struct #config {
            #( #[doc = #docs] pub #fields: #types, )*
        }

        impl #config {
            #[doc = #new_doc]
            #[allow(clippy::new_without_default, clippy::too_many_arguments)]
            pub fn new(#(#required_fields: #required_types),*) -> Self {
                Self { #(#fields: #values),* }
            }
        }

        #default

        impl #name {
            #[doc = #instance_doc]
            pub fn instance(config: &#config) -> ::std::result::Result<::mithril::Instance<Self>, ::mithril::Error> {
                let args = [#(#p::config_arg(#keys, &config.#fields)),*];
                ::mithril::Instance::build(<Self as #p::Nestable>::nested(), &args)
            }
        }
    }
}

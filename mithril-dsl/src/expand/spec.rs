//! The spec as static data: a `ModelSpec` expression whose every string and
//! list is borrowed (`Cow::Borrowed(&[...])`), for a `static`. Data needs no
//! code, so a deep model costs the optimiser nothing (a spec rebuilt from
//! `vec!`s at run time grew the release build with the model).

use mithril_core::args::{ArgSpec, ArgValue};
use mithril_core::graph::{DimSpec, ModelSpec, ValueRef};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

fn str_tokens(s: &str) -> TokenStream {
    quote!(::std::borrow::Cow::Borrowed(#s))
}

fn list_tokens(items: impl Iterator<Item = TokenStream>) -> TokenStream {
    quote!(::std::borrow::Cow::Borrowed(&[#(#items),*]))
}

fn option_str(s: &Option<std::borrow::Cow<'static, str>>) -> TokenStream {
    match s {
        Some(s) => {
            let s = str_tokens(s);
            quote!(::std::option::Option::Some(#s))
        }
        None => quote!(::std::option::Option::None),
    }
}

fn arg_value(v: &ArgValue) -> TokenStream {
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
        ArgValue::Overflow(s) => {
            let s = str_tokens(s);
            quote!(#p::Overflow(#s))
        }
        ArgValue::List(items) => {
            let items = list_tokens(items.iter().map(arg_value));
            quote!(#p::List(#items))
        }
        ArgValue::Tuple(items) => {
            let items = list_tokens(items.iter().map(arg_value));
            quote!(#p::Tuple(#items))
        }
    }
}

/// A constant expression of type `ModelSpec` equal to `spec`.
pub fn tokens(spec: &ModelSpec) -> TokenStream {
    let p = quote!(::mithril::__private);
    let name = str_tokens(&spec.name);
    let inputs = list_tokens(spec.inputs.iter().map(|i| {
        let n = str_tokens(&i.name);
        let dims = list_tokens(i.dims.iter().map(|d| match d {
            DimSpec::Lit(v) => quote!(#p::DimSpec::Lit(#v)),
            DimSpec::Sym(s) => {
                let s = str_tokens(s);
                quote!(#p::DimSpec::Sym(#s))
            }
        }));
        let differentiable = i.differentiable;
        quote!(#p::InputSpec { name: #n, dims: #dims, differentiable: #differentiable })
    }));
    let nodes = list_tokens(spec.nodes.iter().map(|n| {
        let name = option_str(&n.name);
        let layer = str_tokens(&n.layer);
        let args = list_tokens(n.args.iter().map(|ArgSpec { name, value }| {
            let name = option_str(name);
            let value = arg_value(value);
            quote!(#p::ArgSpec { name: #name, value: #value })
        }));
        let inputs = list_tokens(n.inputs.iter().map(|r| match r {
            ValueRef::Named(s) => {
                let s = str_tokens(s);
                quote!(#p::ValueRef::Named(#s))
            }
            ValueRef::Node(i) => quote!(#p::ValueRef::Node(#i)),
            ValueRef::Literal(x) => {
                let x = Literal::f64_suffixed(x.value());
                quote!(#p::ValueRef::Literal(#p::Scalar::new(#x)))
            }
        }));
        let output = option_str(&n.output);
        let repeat = n.repeat;
        quote!(#p::NodeSpec { name: #name, layer: #layer, args: #args, inputs: #inputs, output: #output, repeat: #repeat })
    }));
    let outputs = list_tokens(spec.outputs.iter().map(|o| str_tokens(o)));
    let shares = list_tokens(spec.shares.iter().map(|s| {
        let (target, source) = (str_tokens(&s.target), str_tokens(&s.source));
        quote!(#p::ShareSpec { target: #target, source: #source })
    }));
    quote!(#p::ModelSpec { name: #name, inputs: #inputs, nodes: #nodes, outputs: #outputs, shares: #shares })
}

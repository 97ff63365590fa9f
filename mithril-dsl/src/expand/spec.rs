//! The spec as static data: a `ModelSpec` expression whose every string and
//! list is borrowed (`Cow::Borrowed(&[...])`), for a `static`. Data needs no
//! code, so a deep model costs the optimiser nothing (a spec rebuilt from
//! `vec!`s at run time grew the release build with the model).

use mithril_core::args::{ArgSpec, ArgValue};
use mithril_core::family::{BinaryOp, ExprTok, Func, ParamType};
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

pub(super) fn arg_value(v: &ArgValue) -> TokenStream {
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
        ArgValue::Expr(e) => {
            let e = expr_tokens(e);
            quote!(#p::Expr(#e))
        }
    }
}

/// An expression of parameters as static data.
fn expr_tokens(expr: &[ExprTok]) -> TokenStream {
    let p = quote!(::mithril::__private);
    list_tokens(expr.iter().map(|t| match t {
        ExprTok::Value(v) => {
            let v = arg_value(v);
            quote!(#p::ExprTok::Value(#v))
        }
        ExprTok::Param(s) => {
            let s = str_tokens(s);
            quote!(#p::ExprTok::Param(#s))
        }
        ExprTok::Neg => quote!(#p::ExprTok::Neg),
        ExprTok::Binary(op) => {
            let op = match op {
                BinaryOp::Add => quote!(Add),
                BinaryOp::Sub => quote!(Sub),
                BinaryOp::Mul => quote!(Mul),
                BinaryOp::Div => quote!(Div),
                BinaryOp::Rem => quote!(Rem),
            };
            quote!(#p::ExprTok::Binary(#p::BinaryOp::#op))
        }
        ExprTok::Call(f, n) => {
            let f = match f {
                Func::Min => quote!(Min),
                Func::Max => quote!(Max),
                Func::Pow => quote!(Pow),
                Func::Len => quote!(Len),
            };
            quote!(#p::ExprTok::Call(#p::Func::#f, #n))
        }
        ExprTok::Index => quote!(#p::ExprTok::Index),
        ExprTok::List(n) => quote!(#p::ExprTok::List(#n)),
        ExprTok::Tuple(n) => quote!(#p::ExprTok::Tuple(#n)),
    }))
}

fn option_expr(e: &Option<mithril_core::family::Expr>) -> TokenStream {
    match e {
        Some(e) => {
            let e = expr_tokens(e);
            quote!(::std::option::Option::Some(#e))
        }
        None => quote!(::std::option::Option::None),
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
            DimSpec::Expr(e) => {
                let e = expr_tokens(e);
                quote!(#p::DimSpec::Expr(#e))
            }
        }));
        let differentiable = i.differentiable;
        quote!(#p::InputSpec { name: #n, dims: #dims, differentiable: #differentiable })
    }));
    let nodes = list_tokens(spec.nodes.iter().map(|n| {
        let name = option_str(&n.name);
        let layer = str_tokens(&n.layer);
        let choice = option_expr(&n.choice);
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
            ValueRef::Expr(e) => {
                let e = expr_tokens(e);
                quote!(#p::ValueRef::Expr(#e))
            }
        }));
        let output = option_str(&n.output);
        let bindings = list_tokens(n.bindings.iter().map(|b| {
            let (output, value) = (str_tokens(&b.output), str_tokens(&b.value));
            quote!(#p::Binding { output: #output, value: #value })
        }));
        let repeat = n.repeat;
        let repeat_expr = option_expr(&n.repeat_expr);
        let checkpoint = n.checkpoint;
        quote!(#p::NodeSpec { name: #name, layer: #layer, choice: #choice, args: #args, inputs: #inputs, output: #output, bindings: #bindings, repeat: #repeat, repeat_expr: #repeat_expr, checkpoint: #checkpoint })
    }));
    let params = list_tokens(spec.params.iter().map(|param| {
        let name = str_tokens(&param.name);
        let item = match param.kind.item {
            ParamType::Usize => quote!(Usize),
            ParamType::I64 => quote!(I64),
            ParamType::F64 => quote!(F64),
            ParamType::Bool => quote!(Bool),
            ParamType::Layer => quote!(Layer),
        };
        let list = param.kind.list;
        let default = match &param.default {
            Some(v) => {
                let v = arg_value(v);
                quote!(::std::option::Option::Some(#v))
            }
            None => quote!(::std::option::Option::None),
        };
        quote!(#p::ParamSpec { name: #name, kind: #p::ParamKind { item: #p::ParamType::#item, list: #list }, default: #default })
    }));
    let outputs = list_tokens(spec.outputs.iter().map(|o| str_tokens(o)));
    let shares = list_tokens(spec.shares.iter().map(|s| {
        let (target, source) = (str_tokens(&s.target), str_tokens(&s.source));
        quote!(#p::ShareSpec { target: #target, source: #source })
    }));
    let loops = list_tokens(spec.loops.iter().map(|l| {
        let var = str_tokens(&l.var);
        let (start, end) = (expr_tokens(&l.start), expr_tokens(&l.end));
        let (first, len) = (l.first, l.len);
        quote!(#p::LoopSpec { var: #var, start: #start, end: #end, first: #first, len: #len })
    }));
    quote!(#p::ModelSpec { name: #name, params: #params, inputs: #inputs, nodes: #nodes, outputs: #outputs, shares: #shares, loops: #loops })
}

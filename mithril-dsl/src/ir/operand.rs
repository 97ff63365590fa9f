//! Operands that are expressions but compute with values: an operand
//! expression reads numbers, constants and the model's parameters only
//! (`1.0 / scale`), so `relu(x)` or `x + 1` is explained with the
//! statement to write instead.

use mithril_core::layers::CATALOGUE;
use quote::ToTokens;
use syn::Expr;
use syn::ext::IdentExt;

use super::Scope;
use crate::ast::{Head, ModelDef, Stmt, Target};
use mithril_core::family::Func;

/// What operands are, for the messages.
const OPERANDS: &str = "an operand is a value name, a number, or an expression of numbers, constants and the model's parameters (with `min`, `max`, `pow` and `len`)";

/// Why the operand `top` cannot be compiled as an expression, when it
/// calls a function that is no expression function or names a value.
pub fn mistake(top: &Expr, scope: &Scope) -> Option<syn::Error> {
    find(top, top, scope)
}

fn find(expr: &Expr, top: &Expr, scope: &Scope) -> Option<syn::Error> {
    match expr {
        Expr::Call(c) => {
            let name = match &*c.func {
                Expr::Path(p) => p.path.get_ident().map(|i| i.unraw().to_string()),
                _ => None,
            };
            match name.as_deref() {
                Some(f) if Func::named(f).is_some() => {
                    c.args.iter().find_map(|a| find(a, top, scope))
                }
                _ => Some(called(c)),
            }
        }
        // A name that is neither a parameter nor a value is reported by the
        // expression's compiler (a misspelt parameter, a Rust constant).
        Expr::Path(p) if p.qself.is_none() => {
            let id = p.path.get_ident()?.unraw().to_string();
            (scope.kind(&id).is_none()
                && scope.constant(&id).is_none()
                && scope.values.contains(&id))
            .then(|| computed(top, &id))
        }
        Expr::Binary(b) => find(&b.left, top, scope).or_else(|| find(&b.right, top, scope)),
        Expr::Unary(u) => find(&u.expr, top, scope),
        Expr::Paren(p) => find(&p.expr, top, scope),
        Expr::Group(g) => find(&g.expr, top, scope),
        Expr::Index(i) => find(&i.expr, top, scope).or_else(|| find(&i.index, top, scope)),
        _ => None,
    }
}

/// `relu(x)`: a layer is applied in a statement, not called in an operand.
fn called(call: &syn::ExprCall) -> syn::Error {
    let func = text(&call.func);
    let args: Vec<String> = call.args.iter().map(text).collect();
    let layer = CATALOGUE
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(&func.replace('_', "")))
        .map(|l| l.name);
    let statement = match layer {
        Some(layer) => format!("`{layer}({}) => v;`", args.join(", ")),
        None => "such as `Relu(x) => v;`".to_string(),
    };
    syn::Error::new_spanned(
        call,
        format!(
            "`{}` calls `{func}`, but {OPERANDS}; apply a layer in a statement of its own, {statement}, and use `v` here",
            text_of(call)
        ),
    )
}

/// `x + 1`: arithmetic on a value is a layer (`Add`, `Multiply`, ..).
fn computed(top: &Expr, name: &str) -> syn::Error {
    let layer = match top {
        Expr::Binary(b) => match b.op {
            syn::BinOp::Add(_) => Some("Add"),
            syn::BinOp::Sub(_) => Some("Subtract"),
            syn::BinOp::Mul(_) => Some("Multiply"),
            syn::BinOp::Div(_) => Some("Divide"),
            _ => None,
        }
        .map(|l| format!("`{l}({}, {}) => v;`", text(&b.left), text(&b.right))),
        _ => None,
    };
    let statement = layer.unwrap_or_else(|| "such as `Add(x, 1) => v;`".to_string());
    syn::Error::new_spanned(
        top,
        format!(
            "`{}` computes with the value `{name}`, but {OPERANDS}; to compute with a value, apply a layer in a statement of its own, {statement}, and use `v` here",
            text_of(top)
        ),
    )
}

fn text(expr: &Expr) -> String {
    text_of(expr)
}

/// Tokens as the user would write them: `relu(x)`, not `relu (x)`.
fn text_of(tokens: &impl ToTokens) -> String {
    let written = tokens.to_token_stream().to_string();
    written
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
}

/// The model's value names: its inputs, buffers and statements' results.
pub fn values(def: &ModelDef) -> Vec<String> {
    let mut names = Vec::new();
    for stmt in &def.stmts {
        match stmt {
            Stmt::Input(decls) => names.extend(decls.iter().map(|d| d.name.unraw().to_string())),
            Stmt::Buffer(decls) => names.extend(decls.iter().map(|d| d.name.unraw().to_string())),
            Stmt::Flow(flow) => {
                if let Head::Value(v) = &flow.head {
                    names.push(v.unraw().to_string());
                }
                match &flow.target {
                    Target::Name(n) => names.push(n.unraw().to_string()),
                    Target::Outputs(outputs) => {
                        names.extend(outputs.iter().map(|(_, v)| v.unraw().to_string()))
                    }
                }
            }
            Stmt::Output(..) | Stmt::Share(_) => {}
        }
    }
    names
}

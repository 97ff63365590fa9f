//! The `model!` procedural macro of mithril.
//!
//! The pipeline follows the usual shape of a derive crate: `parse` reads
//! the tokens into the `ast`, `lower` turns that into mithril-core's
//! `ModelSpec` while remembering spans, `check` builds every model with
//! mithril-core (the same shape rules the runtime uses) and maps its errors
//! to the user's tokens, and `expand` generates the typed structs. Errors
//! from every stage are collected and emitted together; a model that fails
//! still gets stub items so that code using it reports no further errors.
//!
//! Use it through the `mithril` crate: `mithril::model! { ... }`.

mod ast;
mod check;
mod expand;
mod lower;
mod parse;

use proc_macro::TokenStream;

/// Defines models whose shapes are checked while the crate compiles.
///
/// See the `mithril` crate's documentation and `docs/dsl.md` for the grammar.
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    expand_models(input.into()).into()
}

fn expand_models(input: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let mut errors = Vec::new();
    let defs = parse::models(input, &mut errors);
    let lowered: Vec<lower::Lowered> = defs.iter().map(|d| lower::lower(d, &mut errors)).collect();
    let syntax_ok = errors.is_empty();
    let graphs = if syntax_ok {
        check::check(&lowered, &mut errors)
    } else {
        vec![None; lowered.len()]
    };
    let names: Vec<String> = defs.iter().map(|d| d.name.to_string()).collect();
    let mut out = proc_macro2::TokenStream::new();
    for (i, ((def, low), graph)) in defs.iter().zip(&lowered).zip(&graphs).enumerate() {
        // A model defined twice is reported by `check`; expand only the first.
        if names[..i].contains(&names[i]) {
            continue;
        }
        out.extend(match graph {
            Some(g) => expand::model(def, low, g, &names),
            None => expand::stub(def, low),
        });
    }
    for e in errors {
        out.extend(e.to_compile_error());
    }
    out
}

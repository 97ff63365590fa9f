//! The compiler of mithril's `model!` language, over `proc_macro2` tokens:
//! [`expand`] is the whole macro, callable outside the compiler (the
//! expansion snapshot tests call it; so can a fuzzer).
//!
//! The pipeline follows the usual shape of a derive crate: `parse` reads
//! the tokens into the `ast`, `ir` turns that into mithril-core's
//! `ModelSpec` while remembering spans, `check` builds every model with
//! mithril-core (the same shape rules the runtime uses) and maps its errors
//! to the user's tokens, and `expand` generates the typed items. Models of
//! other blocks (modules, crates) are found through their signature macros
//! (`link`). Errors from every stage are collected and emitted together; a
//! model that fails still gets items with every field and trait impl code
//! around it uses, so that it reports no further errors.
//!
//! `mithril-macros` is the proc-macro shell around [`expand`]; use the
//! macro through the `mithril` crate: `mithril::model! { ... }`.

extern crate proc_macro;

mod ast;
mod check;
mod expand;
mod ir;
mod link;
mod names;
mod nesting;
mod parse;

use proc_macro2::TokenStream;

/// Expands one `model!` invocation. Never panics: every problem with the
/// input is a `compile_error!` in the output, spanned on the input's tokens.
pub fn expand(input: TokenStream) -> TokenStream {
    // Parsing recurses once per group: bound that first.
    if let Err(e) = nesting::groups(&input) {
        return e.to_compile_error();
    }
    let mut errors = Vec::new();
    let invocation = link::split(input);
    let (defs, const_defs) = parse::models(invocation.body.clone(), &mut errors);
    let consts = ir::constants(&const_defs, &mut errors);
    let models: Vec<ir::ModelIr> = defs
        .iter()
        .map(|d| ir::from_ast(d, &consts, &mut errors))
        .collect();

    let mut out = TokenStream::new();
    if !errors.is_empty() {
        // Shape checks wait until the whole block parses.
        out.extend(expand::constants(&const_defs, &consts, false));
        out.extend(expand::unchecked(&defs, &models));
    } else {
        let refs = link::references(&models);
        match invocation.signatures {
            None if !refs.is_empty() => {
                out.extend(expand::constants(&const_defs, &consts, true));
                out.extend(expand::pending(&defs, &models));
                out.extend(link::request(&refs, invocation.body));
            }
            signatures => {
                let externals =
                    link::Externals::read(signatures.unwrap_or_default(), &refs, &mut errors);
                let checked = check::check(&models, &externals.all(), &mut errors);
                out.extend(expand::constants(&const_defs, &consts, false));
                out.extend(expand::block(&defs, &models, &checked, &externals));
            }
        }
    }
    for e in errors {
        out.extend(e.to_compile_error());
    }
    out
}

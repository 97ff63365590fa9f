//! The `model!` procedural macro of mithril: a shell around
//! [`mithril_dsl::expand`], where the language is compiled.
//!
//! Use it through the `mithril` crate: `mithril::model! { ... }`.

use proc_macro::TokenStream;

/// Defines models whose shapes are checked while the crate compiles.
///
/// See the `mithril` crate's documentation and `docs/dsl.md` for the grammar.
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    mithril_dsl::expand(input.into()).into()
}

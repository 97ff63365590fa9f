//! placeholder
use proc_macro::TokenStream;
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}

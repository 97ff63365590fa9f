//! `model!`'s expansion on arbitrary text: every input that is tokens must
//! give Rust items (an expansion or `compile_error!`s), never a panic; a
//! stack overflow, a time-out or an out-of-memory is a failure too.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(input) = text.parse::<proc_macro2::TokenStream>() else {
        return;
    };
    let output = mithril_dsl::expand(input);
    if let Err(e) = syn::parse2::<syn::File>(output) {
        panic!("the expansion is not Rust items: {e}");
    }
});

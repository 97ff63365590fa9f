//! Compile-time diagnostics of `model!` (trybuild).
//!
//! `tests/ui/<area>/*.rs` must fail to compile with exactly the errors in the
//! `.stderr` file beside each case; `tests/ui/pass/*.rs` must compile, link
//! against MLX and run. Regenerate the `.stderr` files after an intended change
//! to a message with `TRYBUILD=overwrite cargo test --test ui`, then read them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
    // Later globs override earlier ones for the same file: these must pass.
    t.pass("tests/ui/pass/*.rs");
}

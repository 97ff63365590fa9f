//! Compile-time errors of models that use blocks of another crate
//! (`mithril_zoo`): each at this crate's tokens, one per mistake
//! (trybuild; `TRYBUILD=overwrite cargo test -p zoo-app --test ui` after an
//! intended change to a message, then read the diff).

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}

//! Snapshot tests of the expansion: each `tests/expand/<case>.rs` holds
//! `mithril::model! { ... }` invocations; `<case>.expanded.rs` beside it is
//! the file with each invocation replaced by its expansion, pretty-printed.
//! A change to generated code shows up as a diff of these files, reviewed
//! like trybuild's `.stderr` files. After an intended change, regenerate
//! with `MITHRIL_EXPANDED=overwrite cargo test -p mithril-dsl --test expand`
//! and read the diff.

use std::fs;
use std::path::Path;

use proc_macro2::TokenStream;

/// The file with every `model!` item replaced by its expansion.
fn expand_file(source: &str) -> String {
    let mut file: syn::File = syn::parse_str(source).expect("the case parses as Rust");
    let mut items = Vec::new();
    for item in file.items.drain(..) {
        match item {
            syn::Item::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "model") =>
            {
                let expanded: TokenStream = mithril_dsl::expand(m.mac.tokens.clone());
                let expanded: syn::File =
                    syn::parse2(expanded).expect("the expansion parses as items");
                items.extend(expanded.items);
            }
            other => items.push(other),
        }
    }
    file.items = items;
    prettyplease::unparse(&file)
}

#[test]
fn expansions_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let overwrite = std::env::var("MITHRIL_EXPANDED").is_ok_and(|v| v == "overwrite");
    let mut cases: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "rs")
                && !p.to_string_lossy().ends_with(".expanded.rs")
        })
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let mut stale = Vec::new();
    for case in cases {
        let expanded = expand_file(&fs::read_to_string(&case).unwrap());
        let snapshot = case.with_extension("expanded.rs");
        if overwrite {
            fs::write(&snapshot, &expanded).unwrap();
            continue;
        }
        match fs::read_to_string(&snapshot) {
            Ok(expected) if expected == expanded => {}
            _ => {
                fs::write(snapshot.with_extension("rs.new"), &expanded).unwrap();
                stale.push(snapshot.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "expansions differ from their snapshots (the new ones are beside them, `.expanded.rs.new`): {stale:#?}\n\
         after an intended change: MITHRIL_EXPANDED=overwrite cargo test -p mithril-dsl --test expand"
    );
}

/// The invocation of a chain of `n` `Linear(64) -> Relu` pairs, as
/// `scripts/bench/build_time.py` measures it.
fn chain(n: usize) -> TokenStream {
    let stages: Vec<String> = (1..=n)
        .map(|i| format!("l{i}: Linear(64) -> Relu"))
        .collect();
    format!(
        "pub Chain {{ input x: [B, 64]; x -> {} => y; output y; }}",
        stages.join(" -> ")
    )
    .parse()
    .unwrap()
}

fn count(tokens: &TokenStream) -> usize {
    tokens
        .clone()
        .into_iter()
        .map(|t| match t {
            proc_macro2::TokenTree::Group(g) => 1 + count(&g.stream()),
            _ => 1,
        })
        .sum()
}

/// Struct literals (`Name { .. }`) that contain a `?` outside nested
/// blocks: each such `?` is an exit path that drops the fields built so
/// far, and the optimiser's work on them grows with the square of the
/// number of fields (docs/benchmarks.md, "Build time").
fn tries_in_struct_literals(tokens: &TokenStream) -> usize {
    fn has_try(tokens: &TokenStream) -> bool {
        tokens.clone().into_iter().any(|t| match t {
            proc_macro2::TokenTree::Punct(p) => p.as_char() == '?',
            proc_macro2::TokenTree::Group(g) => {
                g.delimiter() != proc_macro2::Delimiter::Brace && has_try(&g.stream())
            }
            _ => false,
        })
    }
    let trees: Vec<_> = tokens.clone().into_iter().collect();
    let mut found = 0;
    for (i, t) in trees.iter().enumerate() {
        if let proc_macro2::TokenTree::Group(g) = t {
            let after_name = i > 0
                && matches!(&trees[i - 1], proc_macro2::TokenTree::Ident(id) if id == "Self" || id.to_string().chars().next().is_some_and(char::is_uppercase));
            if g.delimiter() == proc_macro2::Delimiter::Brace && after_name && has_try(&g.stream())
            {
                found += 1;
            }
            found += tries_in_struct_literals(&g.stream());
        }
    }
    found
}

/// The tokens of `static NAME: T = <these>;`, found anywhere.
fn static_initializer(tokens: &TokenStream, name: &str) -> Option<TokenStream> {
    let trees: Vec<_> = tokens.clone().into_iter().collect();
    for (i, t) in trees.iter().enumerate() {
        match t {
            proc_macro2::TokenTree::Ident(id)
                if id == name && i > 0 && trees[i - 1].to_string() == "static" =>
            {
                let start = trees[i..].iter().position(|t| t.to_string() == "=")? + i + 1;
                let end = trees[start..].iter().position(|t| t.to_string() == ";")? + start;
                return Some(trees[start..end].iter().cloned().collect());
            }
            proc_macro2::TokenTree::Group(g) => {
                if let Some(found) = static_initializer(&g.stream(), name) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

#[test]
fn generated_code_is_linear_in_the_model() {
    let small = mithril_dsl::expand(chain(100));
    let large = mithril_dsl::expand(chain(200));
    let text = large.to_string();
    assert!(!text.contains("compile_error"), "{text}");
    assert_eq!(
        tries_in_struct_literals(&large),
        0,
        "a `?` inside a struct literal"
    );
    // The spec is static data: no `vec!`, no code building it.
    let spec = static_initializer(&large, "SPEC").expect("a `static SPEC`");
    assert!(count(&spec) > 200 * 8, "the spec lists every node");
    assert!(!spec.to_string().contains("vec"), "the spec builds vectors");
    // Twice the layers, twice the tokens (a quadratic form would be 4x).
    let ratio = count(&large) as f64 / count(&small) as f64;
    assert!(
        ratio < 2.1,
        "200 layers expand to {ratio:.2}x the tokens of 100"
    );
    // The check catches the old form.
    let old: TokenStream = "fn from_arrays(arrays: &mut dyn Iterator<Item = Array>) -> Option<Self> { Some(Self { a: A::from_arrays(arrays)?, b: B::from_arrays(arrays)? }) }".parse().unwrap();
    assert_eq!(tries_in_struct_literals(&old), 1);
}

//! The second step of a block that uses models of other blocks.

use fastrand::Rng;
use proc_macro2::{TokenStream, TokenTree};

use super::grammar::{EXTERNAL, block};
use super::mutate::mutate_some;
use super::{Pools, seed};
use crate::harness::Sink;
use crate::tree::{self, Tree, stream, trees};
use crate::vocab::{parse, pick};

/// A block that names models of other blocks: its first step (checked),
/// then its second step as the signature macros would call it, with
/// signatures from the workspace's models or from a generated block
/// (itself checked first), sometimes wrong, sometimes mutated.
pub fn continuation(rng: &mut Rng, pools: &Pools, sink: &mut dyn Sink) {
    let mut signatures: Vec<String> = pools.signatures.clone();
    if rng.bool() {
        // A generated block's signatures.
        let generated = parse(&block(rng));
        let Ok(output) = sink.check(stream(&generated)) else {
            return;
        };
        signatures.extend(signature_groups(&output).iter().map(|s| s.to_string()));
    }
    let first = if rng.bool() {
        seed(rng, pools)
    } else {
        let mut b = block(rng);
        // Make sure it names a model of another block.
        b = b.replacen(" -> ", &format!(" -> {} -> ", pick(rng, EXTERNAL)), 1);
        parse(&b)
    };
    let Ok(output) = sink.check(stream(&first)) else {
        return;
    };
    let Some((keys, body)) = callback(&output) else {
        return;
    };
    // `@__mithril_continue [keys] { body } { signature } ...`
    let mut input = parse("@__mithril_continue");
    input.push(keys.clone());
    input.push(body);
    let keys: Vec<String> = match &keys {
        Tree::Group(_, inner) => inner
            .iter()
            .map(|t| stream(std::slice::from_ref(t)).to_string())
            .collect(),
        Tree::Token(_) => Vec::new(),
    };
    for key in &keys {
        let name = key
            .trim_matches('"')
            .rsplit("::")
            .next()
            .unwrap_or_default()
            .to_string();
        let matching: Vec<&String> = signatures
            .iter()
            .filter(|s| s.contains(&format!(" ok {name} ")))
            .collect();
        let signature = match rng.usize(..20) {
            0 => "{ \"mithril-dsl 0.1.0 signature 1\" failed }".to_string(),
            1 => "{ \"mithril-dsl 9.9.9 signature 7\" ok X { } }".to_string(),
            2 => "{ nonsense }".to_string(),
            3 => continue,
            4 => "x".to_string(),
            5..=8 => signatures[rng.usize(..signatures.len())].clone(),
            _ if !matching.is_empty() => matching[rng.usize(..matching.len())].clone(),
            _ => signatures[rng.usize(..signatures.len())].clone(),
        };
        input.extend(parse(&signature));
    }
    if rng.usize(..10) == 0 {
        input.extend(parse(&signatures[rng.usize(..signatures.len())]));
    }
    if rng.usize(..3) == 0 {
        mutate_some(rng, &mut input, pools);
    }
    let _ = sink.check(stream(&input));
}

/// The `[keys]` and `{ body }` after `@__mithril_continue` in a first
/// step's output (in the call of the first signature macro).
fn callback(output: &TokenStream) -> Option<(Tree, Tree)> {
    let mut list = trees(output.clone());
    let at = tree::find(
        &list,
        &|t| matches!(t, Tree::Token(TokenTree::Ident(i)) if i == "__mithril_continue"),
    );
    let (last, groups) = at.first()?.split_last()?;
    let l = tree::list_at(&mut list, groups);
    Some((l.get(last + 1)?.clone(), l.get(last + 2)?.clone()))
}

/// The signatures in an output: groups that start with the format's string.
pub fn signature_groups(output: &TokenStream) -> Vec<TokenStream> {
    let mut found = Vec::new();
    for t in output.clone() {
        if let TokenTree::Group(g) = t {
            let first = g.stream().into_iter().next();
            if matches!(&first, Some(TokenTree::Literal(l)) if l.to_string().starts_with("\"mithril-dsl "))
            {
                found.push(TokenStream::from(TokenTree::Group(g)));
            } else {
                found.extend(signature_groups(&g.stream()));
            }
        }
    }
    found
}

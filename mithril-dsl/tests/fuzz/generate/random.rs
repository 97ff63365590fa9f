//! Random token streams from the vocabulary.

use fastrand::Rng;
use proc_macro2::Delimiter;

use crate::tree::Tree;
use crate::vocab::{self, delimiter, parse};

/// Tokens from the vocabulary, in groups, sometimes shaped like a model.
pub fn random_stream(rng: &mut Rng) -> Vec<Tree> {
    let len = match rng.usize(..10) {
        0..=5 => rng.usize(..12),
        6..=8 => rng.usize(..60),
        _ => rng.usize(..300),
    };
    match rng.usize(..10) {
        0..=3 => random_list(rng, len, 0),
        4..=7 => {
            // `Name { tokens }`, perhaps several.
            let mut out = Vec::new();
            for _ in 0..rng.usize(1..3) {
                if rng.usize(..4) == 0 {
                    out.extend(parse(&vocab::snippet(rng)));
                }
                out.extend(parse(&vocab::ident(rng)));
                let body = random_list(rng, len, 0);
                out.push(Tree::Group(Delimiter::Brace, body));
            }
            out
        }
        _ => {
            // `Name { tokens; tokens; .. }`
            let mut body = Vec::new();
            for _ in 0..rng.usize(1..8) {
                let len = rng.usize(..10);
                body.extend(random_list(rng, len, 0));
                body.extend(parse(";"));
            }
            let mut out = parse(&vocab::ident(rng));
            out.push(Tree::Group(Delimiter::Brace, body));
            out
        }
    }
}

fn random_list(rng: &mut Rng, len: usize, depth: usize) -> Vec<Tree> {
    let mut out = Vec::new();
    while out.len() < len {
        match rng.usize(..100) {
            0..70 => out.extend(parse(&vocab::snippet(rng))),
            70..88 if depth < 5 => {
                let len = rng.usize(..8);
                let inner = random_list(rng, len, depth + 1);
                out.push(Tree::Group(delimiter(rng), inner));
            }
            _ => out.extend(parse(&vocab::arg_value(rng))),
        }
    }
    out
}

//! Mutations of token trees.

use fastrand::Rng;
use proc_macro2::{Group, Punct, Spacing, TokenTree};

use super::{Pools, seed};
use crate::tree::{self, Tree, is_arrow};
use crate::vocab::{self, delimiter, parse, pick};

/// One to six mutations; a few cases get a very long pipeline, deep
/// nesting or a long run of one token (`- - - x`, `<T<T<..`).
pub fn mutate_some(rng: &mut Rng, list: &mut Vec<Tree>, pools: &Pools) {
    if rng.usize(..200) == 0 {
        match rng.usize(..3) {
            0 => long_pipeline(rng, list),
            1 => deep_nesting(rng, list),
            _ => token_run(rng, list),
        }
        return;
    }
    for _ in 0..rng.usize(1..7) {
        mutate(rng, list, pools);
    }
}

/// A random tree's path, if there is one.
fn any_tree(rng: &mut Rng, list: &[Tree]) -> Option<Vec<usize>> {
    let n = tree::count(list);
    (n > 0).then(|| tree::path_of(list, rng.usize(..n)).expect("in range"))
}

fn any_of(rng: &mut Rng, paths: Vec<Vec<usize>>) -> Option<Vec<usize>> {
    (!paths.is_empty()).then(|| paths[rng.usize(..paths.len())].clone())
}

/// Replaces the tree at `path` with `with`.
fn replace(list: &mut Vec<Tree>, path: &[usize], with: Vec<Tree>) {
    let (last, groups) = path.split_last().expect("a path is never empty");
    tree::list_at(list, groups).splice(*last..=*last, with);
}

fn mutate(rng: &mut Rng, list: &mut Vec<Tree>, pools: &Pools) {
    match rng.usize(..14) {
        // Drop a token or group.
        0 | 1 => {
            if let Some(path) = any_tree(rng, list) {
                replace(list, &path, Vec::new());
            }
        }
        // Duplicate one, once or many times.
        2 => {
            if let Some(path) = any_tree(rng, list) {
                let (last, groups) = path.split_last().unwrap();
                let l = tree::list_at(list, groups);
                let copies = if rng.usize(..10) == 0 {
                    rng.usize(2..50)
                } else {
                    1
                };
                let t = l[*last].clone();
                for _ in 0..copies {
                    l.insert(*last, t.clone());
                }
            }
        }
        // Swap two trees of a list (often neighbours).
        3 => {
            let lists = tree::lists(list);
            let groups = &lists[rng.usize(..lists.len())];
            let l = tree::list_at(list, groups);
            if l.len() >= 2 {
                let i = rng.usize(..l.len());
                let j = if rng.bool() {
                    (i + 1) % l.len()
                } else {
                    rng.usize(..l.len())
                };
                l.swap(i, j);
            }
        }
        // Insert a word of the vocabulary.
        4 | 5 => {
            let lists = tree::lists(list);
            let groups = &lists[rng.usize(..lists.len())];
            let l = tree::list_at(list, groups);
            let at = rng.usize(..=l.len());
            l.splice(at..at, parse(&vocab::snippet(rng)));
        }
        // Replace a tree by a word of the vocabulary.
        6 => {
            if let Some(path) = any_tree(rng, list) {
                replace(list, &path, parse(&vocab::snippet(rng)));
            }
        }
        // A number becomes an extreme one.
        7 | 8 => {
            let literals = tree::find(list, &|t| matches!(t, Tree::Token(TokenTree::Literal(_))));
            if let Some(path) = any_of(rng, literals) {
                let text = if rng.usize(..3) == 0 {
                    vocab::extreme_float(rng)
                } else {
                    vocab::extreme_int(rng)
                };
                let mut with = parse(&text);
                if rng.usize(..4) == 0 {
                    with.insert(
                        0,
                        Tree::Token(TokenTree::Punct(Punct::new('-', Spacing::Alone))),
                    );
                }
                replace(list, &path, with);
            }
        }
        // An identifier becomes another: raw, a keyword, a layer, a name of the model.
        9 => {
            let idents = tree::find(list, &|t| matches!(t, Tree::Token(TokenTree::Ident(_))));
            if let Some(path) = any_of(rng, idents.clone()) {
                let with = if rng.bool() {
                    parse(&vocab::ident(rng))
                } else {
                    let other = &idents[rng.usize(..idents.len())];
                    let (last, groups) = other.split_last().unwrap();
                    vec![tree::list_at(list, groups)[*last].clone()]
                };
                replace(list, &path, with);
            }
        }
        // Wrap a run of trees in a group, or open one, or change its delimiter.
        10 => {
            let lists = tree::lists(list);
            let groups = &lists[rng.usize(..lists.len())];
            let l = tree::list_at(list, groups);
            let start = rng.usize(..=l.len());
            let end = rng.usize(start..=l.len().min(start + 6));
            let inner: Vec<Tree> = l.drain(start..end).collect();
            l.insert(start, Tree::Group(delimiter(rng), inner));
        }
        11 => {
            let groups = tree::find(list, &|t| matches!(t, Tree::Group(..)));
            if let Some(path) = any_of(rng, groups) {
                let (last, parents) = path.split_last().unwrap();
                let l = tree::list_at(list, parents);
                if rng.bool() {
                    if let Tree::Group(_, inner) = l.remove(*last) {
                        l.splice(*last..*last, inner);
                    }
                } else if let Tree::Group(d, _) = &mut l[*last] {
                    *d = delimiter(rng);
                }
            }
        }
        // Joint punctuation split, or separate punctuation joined.
        12 => {
            let puncts = tree::find(list, &|t| matches!(t, Tree::Token(TokenTree::Punct(_))));
            if let Some(path) = any_of(rng, puncts) {
                let (last, groups) = path.split_last().unwrap();
                let l = tree::list_at(list, groups);
                if let Tree::Token(TokenTree::Punct(p)) = &l[*last] {
                    let spacing = match p.spacing() {
                        Spacing::Joint => Spacing::Alone,
                        Spacing::Alone => Spacing::Joint,
                    };
                    let mut flipped = Punct::new(p.as_char(), spacing);
                    flipped.set_span(p.span());
                    l[*last] = Tree::Token(TokenTree::Punct(flipped));
                }
            }
        }
        // A piece of another model of the workspace.
        _ => {
            let donor = seed(rng, pools);
            if let Some(path) = any_tree(rng, &donor) {
                let (last, groups) = path.split_last().unwrap();
                let mut donor = donor;
                let piece = tree::list_at(&mut donor, groups)[*last].clone();
                let lists = tree::lists(list);
                let at_groups = &lists[rng.usize(..lists.len())];
                let l = tree::list_at(list, at_groups);
                let at = rng.usize(..=l.len());
                l.insert(at, piece);
            }
        }
    }
}

/// A pipeline stage (`-> stage`) repeated hundreds or thousands of times.
pub fn long_pipeline(rng: &mut Rng, list: &mut Vec<Tree>) {
    let mut arrows = Vec::new();
    for groups in tree::lists(list) {
        let l = tree::list_at(list, &groups);
        for i in 0..l.len() {
            if is_arrow(l, i, '-') {
                arrows.push((groups.clone(), i));
            }
        }
    }
    if arrows.is_empty() {
        return;
    }
    let (groups, i) = arrows.swap_remove(rng.usize(..arrows.len()));
    let l = tree::list_at(list, &groups);
    let mut end = i + 2;
    while end < l.len()
        && !is_arrow(l, end, '-')
        && !is_arrow(l, end, '=')
        && !crate::tree::is_punct(&l[end], ';')
    {
        end += 1;
    }
    let stage: Vec<Tree> = l[i..end].to_vec();
    let copies = rng.usize(100..3000);
    let repeated: Vec<Tree> = (0..copies).flat_map(|_| stage.iter().cloned()).collect();
    l.splice(end..end, repeated);
}

/// A token (or a vocabulary word) repeated 50 to 20,000 times: syn
/// recurses once per `-`, `<T`, `|x|`, `return`.
pub fn token_run(rng: &mut Rng, list: &mut Vec<Tree>) {
    let lists = tree::lists(list);
    let groups = &lists[rng.usize(..lists.len())];
    let l = tree::list_at(list, groups);
    let at = rng.usize(..=l.len());
    let word = match l.get(at) {
        Some(t @ Tree::Token(_)) if rng.bool() => vec![t.clone()],
        _ => parse(pick(
            rng,
            &[
                "-", "!", "&", "*", "<T", "|x|", "return", "..", "a =", "x ->", "#[a]", "4 as",
                "::a",
            ],
        )),
    };
    let copies = log_uniform(rng, 50, MAX_RUN);
    l.splice(at..at, (0..copies).flat_map(|_| word.iter().cloned()));
}

/// A tree wrapped in 10 to 20,000 groups. The groups are built as one
/// token, without recursion, so that this test's own helpers (which
/// recurse) never walk them.
pub fn deep_nesting(rng: &mut Rng, list: &mut Vec<Tree>) {
    let Some(path) = any_tree(rng, list) else {
        return;
    };
    let (last, groups) = path.split_last().unwrap();
    let l = tree::list_at(list, groups);
    let mut tokens = tree::stream(std::slice::from_ref(&l[*last]));
    let delim = delimiter(rng);
    for _ in 0..log_uniform(rng, 10, MAX_RUN) {
        let d = if rng.usize(..8) == 0 {
            delimiter(rng)
        } else {
            delim
        };
        tokens = TokenTree::Group(Group::new(d, tokens)).into();
    }
    l[*last] = match tokens.into_iter().next() {
        Some(t) => Tree::Token(t),
        None => return,
    };
}

/// The most a run or a nesting goes: past what overflowed the stack before
/// the macro bounded it (thousands of levels).
const MAX_RUN: usize = 20_000;

/// From `low` to `high`, as often each power of two.
fn log_uniform(rng: &mut Rng, low: usize, high: usize) -> usize {
    let bits = rng.f64() * ((high as f64).log2() - (low as f64).log2()) + (low as f64).log2();
    (bits.exp2() as usize).clamp(low, high)
}

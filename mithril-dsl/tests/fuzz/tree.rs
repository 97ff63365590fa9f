//! Token trees as an editable tree: mutations address a token by its
//! position in a depth-first walk, or a list (the top level or a group's
//! contents) by its position among the lists.

use proc_macro2::{Delimiter, Group, Spacing, TokenStream, TokenTree};

/// A token, or a group with its contents.
#[derive(Clone)]
pub enum Tree {
    Group(Delimiter, Vec<Tree>),
    Token(TokenTree),
}

pub fn trees(stream: TokenStream) -> Vec<Tree> {
    stream
        .into_iter()
        .map(|t| match t {
            TokenTree::Group(g) => Tree::Group(g.delimiter(), trees(g.stream())),
            other => Tree::Token(other),
        })
        .collect()
}

pub fn stream(trees: &[Tree]) -> TokenStream {
    trees
        .iter()
        .map(|t| match t {
            Tree::Group(d, inner) => TokenTree::Group(Group::new(*d, stream(inner))),
            Tree::Token(t) => t.clone(),
        })
        .collect()
}

/// Every token and group, depth first.
pub fn count(list: &[Tree]) -> usize {
    list.iter()
        .map(|t| match t {
            Tree::Group(_, inner) => 1 + count(inner),
            Tree::Token(_) => 1,
        })
        .sum()
}

/// The path (indices of enclosing groups, then the index in the list) of
/// the `k`th tree in a depth-first walk.
pub fn path_of(list: &[Tree], mut k: usize) -> Option<Vec<usize>> {
    fn go(list: &[Tree], k: &mut usize, path: &mut Vec<usize>) -> bool {
        for (i, t) in list.iter().enumerate() {
            if *k == 0 {
                path.push(i);
                return true;
            }
            *k -= 1;
            if let Tree::Group(_, inner) = t {
                path.push(i);
                if go(inner, k, path) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = Vec::new();
    go(list, &mut k, &mut path).then_some(path)
}

/// The list that the path's last index points into.
pub fn list_at<'a>(list: &'a mut Vec<Tree>, groups: &[usize]) -> &'a mut Vec<Tree> {
    match groups.split_first() {
        None => list,
        Some((&i, rest)) => match &mut list[i] {
            Tree::Group(_, inner) => list_at(inner, rest),
            Tree::Token(_) => unreachable!("a path goes through groups"),
        },
    }
}

/// The paths of every list: the top level (`[]`) and each group's contents.
pub fn lists(list: &[Tree]) -> Vec<Vec<usize>> {
    fn go(list: &[Tree], prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        out.push(prefix.clone());
        for (i, t) in list.iter().enumerate() {
            if let Tree::Group(_, inner) = t {
                prefix.push(i);
                go(inner, prefix, out);
                prefix.pop();
            }
        }
    }
    let mut out = Vec::new();
    go(list, &mut Vec::new(), &mut out);
    out
}

/// The paths of every tree that satisfies `keep`.
pub fn find(list: &[Tree], keep: &dyn Fn(&Tree) -> bool) -> Vec<Vec<usize>> {
    fn go(
        list: &[Tree],
        keep: &dyn Fn(&Tree) -> bool,
        prefix: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) {
        for (i, t) in list.iter().enumerate() {
            prefix.push(i);
            if keep(t) {
                out.push(prefix.clone());
            }
            if let Tree::Group(_, inner) = t {
                go(inner, keep, prefix, out);
            }
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    go(list, keep, &mut Vec::new(), &mut out);
    out
}

pub fn is_punct(t: &Tree, c: char) -> bool {
    matches!(t, Tree::Token(TokenTree::Punct(p)) if p.as_char() == c)
}

/// `->` or `=>` starting at `i`: the first character joint to the `>`.
pub fn is_arrow(list: &[Tree], i: usize, first: char) -> bool {
    matches!(&list[i], Tree::Token(TokenTree::Punct(p)) if p.as_char() == first && p.spacing() == Spacing::Joint)
        && list.get(i + 1).is_some_and(|t| is_punct(t, '>'))
}

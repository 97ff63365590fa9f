//! Bounds on how deeply the input nests, checked before syn parses it.
//!
//! syn builds its token buffer recursively, one level per group, so the
//! whole input is measured first ([`groups`], without recursion): a few
//! hundred levels of groups are enough for any block, signatures included
//! (one level per model a model nests).
//!
//! syn's parsers recurse once per level of an expression, type or path:
//! per group (`((x))`), generic argument (`A<B<C>>`) and prefix operator
//! or closure (`- - x`, `|a| |b| x`). A proc macro runs on rustc's stack,
//! and an unoptimised syn overflows it at a few hundred levels; an overflow
//! aborts rustc with no error at all. So each statement and attribute is
//! measured first, and one that nests past [`MAX_NESTING`] is an error at
//! the token where it does. No model comes near the bound.
//!
//! The measure is an upper bound on that recursion: a list is cut into
//! elements at `,`, `;`, `->` and `=>` (outside generic arguments and
//! closure parameters, where syn keeps recursing), an element costs one
//! per token, and a group one more than its costliest element. A long
//! pipeline or a long list of inputs is many cheap elements.

use proc_macro2::{Spacing, Span, TokenStream, TokenTree};

/// The deepest an element may nest.
pub const MAX_NESTING: usize = 64;

/// The deepest groups may nest in the whole input.
pub const MAX_GROUP_DEPTH: usize = 256;

/// The error at the first group nested past [`MAX_GROUP_DEPTH`], if any.
pub fn groups(tokens: &TokenStream) -> Result<(), syn::Error> {
    let mut stack = vec![tokens.clone().into_iter()];
    while let Some(top) = stack.last_mut() {
        match top.next() {
            Some(TokenTree::Group(g)) => {
                if stack.len() > MAX_GROUP_DEPTH {
                    return Err(syn::Error::new(
                        g.span_open(),
                        format!("groups nest more than {MAX_GROUP_DEPTH} deep here"),
                    ));
                }
                stack.push(g.stream().into_iter());
            }
            Some(_) => {}
            None => {
                stack.pop();
            }
        }
    }
    Ok(())
}

/// The error at the token where `tokens` nests past [`MAX_NESTING`], if it does.
pub fn check(tokens: &TokenStream) -> Result<(), syn::Error> {
    match costliest(tokens.clone(), MAX_NESTING) {
        Ok(_) => Ok(()),
        Err(span) => Err(syn::Error::new(
            span,
            format!(
                "this nests more than {MAX_NESTING} levels deep (groups, generic arguments or operators); layer arguments are literals, words, paths, tuples and shapes"
            ),
        )),
    }
}

/// The cost of the costliest element of `tokens`, or the span of the token
/// where an element exceeds `budget`. Recursion stops with the budget, so
/// it is at most [`MAX_NESTING`] deep however deep the input is.
fn costliest(tokens: TokenStream, budget: usize) -> Result<usize, Span> {
    let mut max = 0;
    let mut element = 0;
    // Inside `<..>` or `|..|`, separators do not end the element.
    let mut angles = 0usize;
    let mut in_pipes = false;
    let mut previous: Option<(char, Spacing)> = None;
    let mut trees = tokens.into_iter().peekable();
    while let Some(tree) = trees.next() {
        let mut separator = false;
        let cost = match &tree {
            TokenTree::Group(g) => {
                let left = budget.checked_sub(element + 1).ok_or(tree.span())?;
                previous = None;
                1 + costliest(g.stream(), left)?
            }
            TokenTree::Punct(p) => {
                let c = p.as_char();
                let arrow = matches!(previous, Some(('-' | '=', Spacing::Joint)));
                let starts_arrow = matches!(c, '-' | '=')
                    && p.spacing() == Spacing::Joint
                    && matches!(trees.peek(), Some(TokenTree::Punct(n)) if n.as_char() == '>');
                match c {
                    '<' => angles += 1,
                    '>' if !arrow => angles = angles.saturating_sub(1),
                    '|' => in_pipes = !in_pipes,
                    _ => {}
                }
                let open = angles > 0 || in_pipes;
                separator = !open && (matches!(c, ',' | ';') || starts_arrow);
                previous = Some((c, p.spacing()));
                1
            }
            _ => {
                previous = None;
                1
            }
        };
        if separator {
            max = max.max(element);
            element = 0;
            continue;
        }
        element += cost;
        if element > budget {
            return Err(tree.span());
        }
    }
    Ok(max.max(element))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nests(text: &str) -> bool {
        check(&text.parse().unwrap()).is_err()
    }

    fn deep(open: &str, middle: &str, close: &str, n: usize) -> String {
        format!("{}{middle}{}", open.repeat(n), close.repeat(n))
    }

    #[test]
    fn models_are_far_from_the_bound() {
        assert!(!nests(
            "x -> fc1: Linear(128, bias = false) * 3 -> Conv2d(3, 16, kernel = (3, 3), stride = (2, 2), padding = same) => y;"
        ));
        assert!(!nests(
            "Lambda(ops::swish, shape = [B, T, 4])(a, b) -> Reshape([B, -1]) => y;"
        ));
        // Many cheap elements: long pipelines and lists.
        assert!(!nests(&format!(
            "x {} => y;",
            "-> Linear(4) ".repeat(10_000)
        )));
        assert!(!nests(&format!(
            "Concat({}) => y;",
            vec!["x"; 10_000].join(", ")
        )));
        assert!(!nests(&format!(
            "input {};",
            (0..10_000)
                .map(|i| format!("x{i}: [B, 4]"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
        assert!(!nests(&deep("(", "4", ")", MAX_NESTING - 1)));
    }

    #[test]
    fn groups_are_measured_without_recursion() {
        let text = |n| deep("(", "x", ")", n);
        assert!(groups(&text(MAX_GROUP_DEPTH).parse().unwrap()).is_ok());
        assert!(groups(&text(MAX_GROUP_DEPTH + 1).parse().unwrap()).is_err());
        let err = groups(&text(1_000_000).parse().unwrap()).unwrap_err();
        assert!(err.to_string().contains("nest more than 256 deep"));
    }

    #[test]
    fn every_kind_of_recursion_is_bounded() {
        let n = 100_000;
        assert!(nests(&deep("(", "4", ")", MAX_NESTING + 1)));
        assert!(nests(&deep("(", "4", ")", n)));
        assert!(nests(&deep("{", "", "}", n)));
        assert!(nests(&format!("x -> Linear({}4) => y;", "- ".repeat(n))));
        assert!(nests(&format!(
            "x -> Linear({}4) => y;",
            "|a, b| ".repeat(n)
        )));
        assert!(nests(&format!(
            "x -> Linear({}4) => y;",
            "return ".repeat(n)
        )));
        assert!(nests(&format!(
            "x -> Block{}T{} => y;",
            "<A, T".repeat(n),
            ">".repeat(n)
        )));
        assert!(nests(&format!(
            "x -> Block{}T{} => y;",
            "<Fn() -> T".repeat(n),
            ">".repeat(n)
        )));
        assert!(nests(&format!(
            "x -> Conv2d(4, {}3{}) => y;",
            "(3, ".repeat(n),
            ")".repeat(n)
        )));
        assert!(nests(&format!("doc = {}1", "- ".repeat(n))));
    }
}

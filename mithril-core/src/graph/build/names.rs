//! Pass 2: node names. The user's (`fc1: Linear`), or `<kind>_<n>`: the
//! layer's kind in snake case and a counter per kind in source order,
//! skipping numbers a user name already takes.

use std::collections::HashMap;

use crate::graph::error::Errors;
use crate::graph::{ModelSpec, Site, snake_case};

/// Each node's name, in source order, as [`Graph::build`](crate::Graph::build)
/// gives them (a name used twice is left as it is).
pub fn node_names(spec: &ModelSpec) -> Vec<String> {
    assign(spec, &mut Errors::default())
}

/// One name per node, in source order.
pub(super) fn assign(spec: &ModelSpec, errors: &mut Errors) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(spec.nodes.len());
    let mut counters: HashMap<String, usize> = HashMap::new();
    let user_names: Vec<&str> = spec
        .nodes
        .iter()
        .filter_map(|n| n.name.as_deref())
        .collect();
    for (i, node) in spec.nodes.iter().enumerate() {
        let name = match &node.name {
            Some(n) => {
                if names.iter().any(|m| m == &**n) {
                    errors.push(Site::Node(i), format!("layer name `{n}` is used twice"));
                }
                n.to_string()
            }
            None => {
                let stem = snake_case(node.kind());
                loop {
                    let k = counters.entry(stem.clone()).or_insert(0);
                    let candidate = format!("{stem}_{k}");
                    *k += 1;
                    if !user_names.contains(&candidate.as_str()) {
                        break candidate;
                    }
                }
            }
        };
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::super::tests::{input, messages, named, node, spec};
    use super::*;

    #[test]
    fn automatic_names_count_per_kind_and_skip_user_names() {
        let s = spec(
            &[input("x", "B 4")],
            vec![
                node("Linear", &["8"], &["x"], None),
                named("linear_1", node("Linear", &["8"], &["x"], None)),
                node("Linear", &["8"], &["x"], None),
                node("Relu", &[], &["x"], None),
                node("zoo::blocks::TransformerBlock", &[], &["x"], None),
                named("fc", node("Relu", &[], &["x"], None)),
                named("fc", node("Relu", &[], &["x"], None)),
            ],
            &["x"],
        );
        let mut errors = Errors::default();
        let names = assign(&s, &mut errors);
        assert_eq!(
            names,
            [
                "linear_0",
                "linear_1",
                "linear_2",
                "relu_0",
                "transformer_block_0",
                "fc",
                "fc"
            ]
        );
        assert_eq!(
            messages(&errors),
            ["Node(6): layer name `fc` is used twice"]
        );
    }
}

//! Pass 4: the execution order, a topological sort that keeps source order
//! where the data flow allows. A cycle is reported once, at the node that
//! closes it, listing the values around it in flow order.

use crate::graph::error::Errors;
use crate::graph::{ModelSpec, Site};

use super::wiring::{Slot, Wiring};

/// Node source indices in execution order (nodes on a cycle are left out).
pub(super) fn topological(
    spec: &ModelSpec,
    wiring: &Wiring,
    names: &[String],
    errors: &mut Errors,
) -> Vec<usize> {
    let n = wiring.inputs.len();
    let deps: Vec<Vec<usize>> = wiring
        .inputs
        .iter()
        .map(|slots| {
            slots
                .iter()
                .filter_map(|s| match s {
                    Some(Slot::Node(j) | Slot::Part(j, _)) => Some(*j),
                    _ => None,
                })
                .collect()
        })
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; n];
    let mut order = Vec::with_capacity(n);
    let mut reported = false;
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = deps[node].get(*next) {
                *next += 1;
                match state.get(dep) {
                    Some(0) => {
                        state[dep] = 1;
                        stack.push((dep, 0));
                    }
                    Some(1) if !reported => {
                        reported = true;
                        let at = stack.iter().position(|(m, _)| *m == dep).unwrap_or(0);
                        // The stack runs against the data flow (each node
                        // waits for the next); list it in flow order.
                        let mut cycle: Vec<String> = stack[at..]
                            .iter()
                            .rev()
                            .map(|(m, _)| match &spec.nodes[*m].output {
                                Some(v) => format!("`{v}`"),
                                None => format!("`{}`", names[*m]),
                            })
                            .collect();
                        cycle.push(cycle[0].clone());
                        errors.push(
                            Site::Node(node),
                            format!(
                                "values feed into themselves in a cycle: {}",
                                cycle.join(" -> ")
                            ),
                        );
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                order.push(node);
                stack.pop();
            }
        }
    }
    // A node whose inputs wait on a cycle is never finished in a valid
    // order; keep only nodes whose dependencies all come before them.
    let mut placed = vec![false; n];
    order.retain(|&i| {
        let ok = deps[i]
            .iter()
            .all(|&d| placed.get(d).copied().unwrap_or(false));
        placed[i] = ok;
        ok
    });
    order
}

#[cfg(test)]
mod tests {
    use super::super::tests::{input, messages, node, spec};
    use super::super::{names, values, wiring};
    use super::*;

    fn sort(s: &ModelSpec) -> (Vec<usize>, Vec<String>) {
        let mut errors = Errors::default();
        let values = values::declare(s, &mut errors);
        let names = names::assign(s, &mut errors);
        let wiring = wiring::resolve(s, &values, &mut errors);
        let order = topological(s, &wiring, &names, &mut errors);
        (order, messages(&errors))
    }

    #[test]
    fn named_values_may_be_used_before_their_statement() {
        let s = spec(
            &[input("x", "B 4")],
            vec![
                node("Relu", &[], &["h"], Some("y")),
                node("Tanh", &[], &["x"], Some("h")),
            ],
            &["y"],
        );
        let (order, errors) = sort(&s);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(order, [1, 0]);
    }

    #[test]
    fn a_cycle_is_reported_once_and_left_out() {
        let s = spec(
            &[input("x", "B 4")],
            vec![
                node("Add", &[], &["x", "b"], Some("a")),
                node("Relu", &[], &["a"], Some("b")),
                node("Relu", &[], &["b"], Some("y")),
                node("Relu", &[], &["x"], Some("z")),
            ],
            &["y", "z"],
        );
        let (order, errors) = sort(&s);
        assert_eq!(
            errors,
            ["Node(1): values feed into themselves in a cycle: `b` -> `a` -> `b`"]
        );
        assert_eq!(order, [3]);
    }
}

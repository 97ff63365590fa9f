//! Pass 5: what each node computes. A built-in layer built from its
//! arguments, or a nested model found by name; the number of inputs it is
//! given, and its repeat count.

use crate::args::{ArgError, ArgSite};
use crate::family::Template;
use crate::graph::error::Errors;
use crate::graph::{ModelSpec, NodeSpec, Op, Site};
use crate::layers::{CATALOGUE, Layer};

use super::{MAX_REPEAT, ModelLookup, Nested};

/// Each node's op by source index; `None` where it failed (reported, or
/// silently for a nested model that failed its own checks).
pub(super) fn resolve(
    spec: &ModelSpec,
    models: ModelLookup<'_>,
    errors: &mut Errors,
) -> Vec<Option<Op>> {
    spec.nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let op = op_of(i, node, models, errors)?;
            (check_inputs(i, node, &op, errors)
                && check_bindings(i, node, &op, errors)
                && check_checkpoint(i, node, &op, errors))
            .then_some(op)
        })
        .collect()
}

/// The node's op, or `None` after reporting why there is none.
pub(super) fn op_of(
    i: usize,
    node: &NodeSpec,
    models: ModelLookup<'_>,
    errors: &mut Errors,
) -> Option<Op> {
    // Built-in layers are named by a bare word; a path is always a model.
    if !node.layer.contains("::")
        && let Some(built) = Layer::from_args(&node.layer, &node.args)
    {
        return match built {
            Ok(layer) => Some(Op::Layer(layer)),
            Err(found) => {
                for ArgError { site, message } in found {
                    let site = match site {
                        ArgSite::Call => Site::Node(i),
                        ArgSite::Arg(arg) => Site::NodeArg { node: i, arg },
                    };
                    errors.push(site, message);
                }
                None
            }
        };
    }
    match models(&node.layer) {
        Some(Nested::Family(template)) => instance(i, node, &template, errors),
        Some(nested) => {
            if !node.args.is_empty() {
                errors.push(
                    Site::NodeArg { node: i, arg: 0 },
                    format!(
                        "nested model `{}` takes no arguments; its inputs go in the pipeline",
                        node.layer
                    ),
                );
                return None;
            }
            match nested {
                Nested::Model(graph) => Some(Op::Model(graph)),
                Nested::Family(_) | Nested::Failed => {
                    errors.fail_silently();
                    None
                }
            }
        }
        None => {
            let names: Vec<&str> = CATALOGUE.iter().map(|l| l.name).collect();
            let hint = crate::closest(&node.layer, &names)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            errors.push(
                Site::Node(i),
                format!("unknown layer `{}`{hint}", node.layer),
            );
            None
        }
    }
}

/// The graph of a family's instantiation with the node's arguments. A
/// mistake in the arguments is reported at them; one that only this
/// instantiation exposes inside the family is reported at the call, naming
/// the instantiation and where in the family it is.
fn instance(i: usize, node: &NodeSpec, template: &Template, errors: &mut Errors) -> Option<Op> {
    match template.call(i, node) {
        Ok(graph) => Some(Op::Model(graph)),
        Err(found) if found.is_empty() => {
            errors.fail_silently();
            None
        }
        Err(found) => {
            for e in found {
                errors.push(e.site, e.message);
            }
            None
        }
    }
}

/// The number of inputs and the repeat count; `false` after reporting.
fn check_inputs(i: usize, node: &NodeSpec, op: &Op, errors: &mut Errors) -> bool {
    let arity = op.arity();
    if !arity.accepts(node.inputs.len()) {
        let message = if node.inputs.len() == 1 {
            format!(
                "`{layer}` takes {arity}, found 1; give them at the start of a statement, as in `{layer}(a, b) => c;` (a pipeline stage gets only the previous value)",
                layer = node.layer,
            )
        } else {
            format!(
                "`{}` takes {arity}, found {}",
                node.layer,
                node.inputs.len()
            )
        };
        errors.push(Site::Node(i), message);
        return false;
    }
    if !(1..=MAX_REPEAT).contains(&node.repeat) {
        errors.push(
            Site::NodeRepeat(i),
            repeat_out_of_range(&node.repeat.to_string()),
        );
        return false;
    }
    if node.repeat > 1 && node.inputs.len() != 1 {
        errors.push(
            Site::NodeRepeat(i),
            format!(
                "only single-input layers can be repeated; `{}` takes {arity}",
                node.layer
            ),
        );
        return false;
    }
    true
}

/// The outputs `=> { output: name }` binds: a nested model's, each once;
/// `false` after reporting.
fn check_bindings(i: usize, node: &NodeSpec, op: &Op, errors: &mut Errors) -> bool {
    if node.bindings.is_empty() {
        return true;
    }
    let Op::Model(graph) = op else {
        errors.push(
            Site::NodeBinding { node: i, binding: 0 },
            format!(
                "`{}` has one output; name it with `=> name` (outputs are bound by name only for models with several)",
                node.kind()
            ),
        );
        return false;
    };
    let names: Vec<&str> = graph.outputs.iter().map(|o| o.name.as_str()).collect();
    let mut fits = true;
    for (b, binding) in node.bindings.iter().enumerate() {
        if !names.contains(&&*binding.output) {
            fits = false;
            let hint = crate::closest(&binding.output, &names)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            errors.push(
                Site::NodeBinding {
                    node: i,
                    binding: b,
                },
                format!(
                    "model `{}` has no output `{}`; {hint}its outputs are `{}`",
                    graph.name,
                    binding.output,
                    names.join("`, `")
                ),
            );
        }
    }
    if node.repeat > 1 || node.repeat_expr.is_some() {
        errors.push(
            Site::NodeRepeat(i),
            "a model whose outputs are bound by name cannot be repeated",
        );
        return false;
    }
    fits
}

/// A node marked `checkpoint` must be one whose forward can run again in
/// the backward pass: not one that updates buffers in training (a second
/// run would update them twice); `false` after reporting.
fn check_checkpoint(i: usize, node: &NodeSpec, op: &Op, errors: &mut Errors) -> bool {
    if !node.checkpoint || !op.updates_buffers() {
        return true;
    }
    let what = match op {
        Op::Layer(l) => format!("`{}`", l.name()),
        Op::Model(g) => format!("model `{}` has a layer that", g.name),
    };
    errors.push(
        Site::Node(i),
        format!(
            "`checkpoint` cannot recompute `{}`: {what} updates buffers in training (such as BatchNorm's running statistics), and recomputing it in the backward pass would update them again; mark the layers around it instead",
            node.kind()
        ),
    );
    false
}

/// The error for a repeat count outside `1..=MAX_REPEAT`, given as written.
pub fn repeat_out_of_range(found: &str) -> String {
    format!("a layer is repeated from 1 to {MAX_REPEAT} times, found `* {found}`")
}

#[cfg(test)]
mod tests {
    use super::super::tests::{input, messages, node, spec};
    use super::*;
    use std::sync::Arc;

    #[test]
    fn layers_models_and_their_inputs() {
        let inner = spec(
            &[input("x", "B 4")],
            vec![node("Relu", &[], &["x"], Some("y"))],
            &["y"],
        );
        let inner = Arc::new(crate::graph::Graph::build(&inner, &|_| None).unwrap());
        let mut repeated_add = node("Add", &[], &["x", "x"], Some("d"));
        repeated_add.repeat = 2;
        let mut zero = node("Relu", &[], &["x"], Some("e"));
        zero.repeat = 0;
        let s = spec(
            &[input("x", "B 4")],
            vec![
                node("Linear", &["4"], &["x"], Some("a")),
                node("Block", &[], &["x"], Some("b")),
                node("Failed", &[], &["x"], Some("c")),
                repeated_add,
                zero,
                node("Add", &[], &["x"], Some("f")),
                node("Linaer", &["4"], &["x"], Some("g")),
                node("Block", &["4"], &["x"], Some("h")),
                node("Linear", &["units = 4"], &["x"], Some("i")),
            ],
            &["a"],
        );
        let lookup = |name: &str| match name {
            "Block" => Some(Nested::Model(Arc::clone(&inner))),
            "Failed" => Some(Nested::Failed),
            _ => None,
        };
        let mut errors = Errors::default();
        let ops = resolve(&s, &lookup, &mut errors);
        let resolved: Vec<Option<&str>> = ops.iter().map(|o| o.as_ref().map(Op::name)).collect();
        assert_eq!(
            resolved,
            [
                Some("Linear"),
                Some("Test"),
                None,
                None,
                None,
                None,
                None,
                None,
                Some("Linear")
            ]
        );
        assert_eq!(
            messages(&errors),
            [
                "NodeRepeat(3): only single-input layers can be repeated; `Add` takes 2 inputs",
                "NodeRepeat(4): a layer is repeated from 1 to 4096 times, found `* 0`",
                "Node(5): `Add` takes 2 inputs, found 1; give them at the start of a statement, as in `Add(a, b) => c;` (a pipeline stage gets only the previous value)",
                "Node(6): unknown layer `Linaer`; did you mean `Linear`?",
                "NodeArg { node: 7, arg: 0 }: nested model `Block` takes no arguments; its inputs go in the pipeline",
            ]
        );
    }

    #[test]
    fn checkpoint_refuses_layers_that_update_buffers() {
        let inner = spec(
            &[input("x", "B 4")],
            vec![node("BatchNorm", &[], &["x"], Some("y"))],
            &["y"],
        );
        let inner = Arc::new(crate::graph::Graph::build(&inner, &|_| None).unwrap());
        let marked = |layer: &str, output: &str| {
            let mut n = node(layer, &[], &["x"], Some(output));
            n.checkpoint = true;
            n
        };
        let s = spec(
            &[input("x", "B 4")],
            vec![
                marked("Relu", "a"),
                marked("BatchNorm", "b"),
                marked("Normed", "c"),
                node("BatchNorm", &[], &["x"], Some("d")),
            ],
            &["a"],
        );
        let lookup = |name: &str| match name {
            "Normed" => Some(Nested::Model(Arc::clone(&inner))),
            _ => None,
        };
        let mut errors = Errors::default();
        let ops = resolve(&s, &lookup, &mut errors);
        let resolved: Vec<Option<&str>> = ops.iter().map(|o| o.as_ref().map(Op::name)).collect();
        assert_eq!(resolved, [Some("Relu"), None, None, Some("BatchNorm")]);
        assert_eq!(
            messages(&errors),
            [
                "Node(1): `checkpoint` cannot recompute `BatchNorm`: `BatchNorm` updates buffers in training (such as BatchNorm's running statistics), and recomputing it in the backward pass would update them again; mark the layers around it instead",
                "Node(2): `checkpoint` cannot recompute `Normed`: model `Test` has a layer that updates buffers in training (such as BatchNorm's running statistics), and recomputing it in the backward pass would update them again; mark the layers around it instead",
            ]
        );
    }
}

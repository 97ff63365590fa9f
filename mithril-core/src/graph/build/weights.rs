//! Pass 7: parameters. Each node's weights for its input shapes, with the
//! dotted paths mlx.nn gives them: `fc1.weight`, `blocks.0.fc.bias`, and a
//! nested model's own paths under the node's name.

use crate::graph::error::Errors;
use crate::graph::{ModelSpec, Node, NodeSpec, Op, Site, Weight};
use crate::layers::{Init, LAYER_ITSELF};
use crate::shape::Shape;

use super::MAX_WEIGHTS;
use super::shapes::Shaped;

/// The graph's nodes (in execution order) and every weight, in node order.
///
/// The weights are counted before they are listed: nesting multiplies them
/// (`Block * 4096` of a block of `Linear * 4096`, or each model of a chain
/// using the one before twice), and a model past [`MAX_WEIGHTS`] is an
/// error at the layer that passes it rather than a listing that never ends.
pub(super) fn assign(
    spec: &ModelSpec,
    names: &[String],
    shaped: Vec<Shaped>,
    errors: &mut Errors,
) -> (Vec<Node>, Vec<Weight>) {
    let mut nodes = Vec::with_capacity(shaped.len());
    let mut weights = Vec::new();
    let mut too_many = false;
    for s in shaped {
        let node = &spec.nodes[s.source];
        let name = &names[s.source];
        let start = weights.len();
        let count = match &s.op {
            Op::Layer(l) => l.weights(&s.input_shapes).len(),
            Op::Model(g) => g.weights.len(),
        };
        if node.choice.is_some() && count > 0 {
            errors.push(
                Site::Node(s.source),
                format!(
                    "a layer parameter chose `{}`, which has parameters of its own; a `Layer` parameter takes layers without parameters, such as activations",
                    node.layer
                ),
            );
            continue;
        }
        let total = count.saturating_mul(node.repeat).saturating_add(start);
        if !too_many && total > MAX_WEIGHTS {
            too_many = true;
            let site = if node.repeat > 1 {
                Site::NodeRepeat(s.source)
            } else {
                Site::Node(s.source)
            };
            errors.push(
                site,
                format!(
                    "layer `{name}` brings the model to {total} parameter arrays, more than the {MAX_WEIGHTS} a model may hold (every repeat and nested model counts its own)"
                ),
            );
        }
        if !too_many {
            push_weights(node, name, &s, errors, &mut weights);
        }
        nodes.push(Node {
            name: name.clone(),
            op: s.op,
            inputs: s.inputs,
            shape: s.shape,
            parts: s.parts,
            repeat: node.repeat,
            weights: start..weights.len(),
            shared: Vec::new(),
            call: node.call_text(),
            source: s.source,
            checkpoint: node.checkpoint,
        });
    }
    (nodes, weights)
}

/// A node's weights, every application of it.
fn push_weights(
    node: &NodeSpec,
    name: &str,
    s: &Shaped,
    errors: &mut Errors,
    weights: &mut Vec<Weight>,
) {
    let per_application = weights_of(&s.op, &s.input_shapes);
    if let Some(w) = per_application
        .iter()
        .find(|w| element_count(&w.1).is_none())
    {
        errors.push(
            Site::Node(s.source),
            format!(
                "parameter `{}` would have shape {}, more elements than an array can hold",
                path_in(name, &w.0),
                Shape::known(&w.1)
            ),
        );
    }
    for rep in 0..node.repeat {
        let prefix = if node.numbered() {
            format!("{name}.{rep}")
        } else {
            name.to_string()
        };
        for (path, shape, init, trainable) in &per_application {
            weights.push(Weight {
                path: path_in(&prefix, path),
                shape: shape.clone(),
                init: *init,
                trainable: *trainable,
            });
        }
    }
}

/// The dotted path of a weight `local` of the layer at `prefix`; a weight
/// that is the layer itself ([`LAYER_ITSELF`]) has the layer's path.
fn path_in(prefix: &str, local: &str) -> String {
    if local == LAYER_ITSELF {
        prefix.to_string()
    } else {
        format!("{prefix}.{local}")
    }
}

/// One application's weights: path within the node, shape, init, trainable.
fn weights_of(op: &Op, shapes: &[Shape]) -> Vec<(String, Vec<usize>, Init, bool)> {
    match op {
        Op::Layer(l) => l
            .weights(shapes)
            .into_iter()
            .map(|w| (w.name.to_string(), w.shape, w.init, w.trainable))
            .collect(),
        Op::Model(g) => g
            .weights
            .iter()
            .map(|w| (w.path.clone(), w.shape.clone(), w.init, w.trainable))
            .collect(),
    }
}

/// The number of scalars in a shape, if it fits an `isize` (an array's limit).
pub(crate) fn element_count(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{input, node, spec};
    use crate::graph::Graph;
    use std::sync::Arc;

    #[test]
    fn paths_nest_and_repeat() {
        let block = spec(
            &[input("x", "B 4")],
            vec![node("Linear", &["4"], &["x"], Some("y"))],
            &["y"],
        );
        let block = Arc::new(Graph::build(&block, &|_| None).unwrap());
        let mut mix = super::super::tests::named(
            "mix",
            node("Linear", &["4", "bias = false"], &["x"], Some("m")),
        );
        mix.repeat = 2;
        let s = spec(
            &[input("x", "B 4")],
            vec![mix, node("Block", &[], &["m"], Some("y"))],
            &["y"],
        );
        let lookup =
            |name: &str| (name == "Block").then(|| super::super::Nested::Model(Arc::clone(&block)));
        let graph = Graph::build(&s, &lookup).unwrap();
        let paths: Vec<(&str, &[usize])> = graph
            .weights
            .iter()
            .map(|w| (w.path.as_str(), w.shape.as_slice()))
            .collect();
        assert_eq!(
            paths,
            [
                ("mix.0.weight", &[4, 4][..]),
                ("mix.1.weight", &[4, 4]),
                ("block_0.linear_0.weight", &[4, 4]),
                ("block_0.linear_0.bias", &[4]),
            ]
        );
        assert_eq!(graph.nodes[0].weights, 0..2);
        assert_eq!(graph.nodes[1].weights, 2..4);
        assert_eq!(graph.parameter_count(), 16 + 16 + 16 + 4);
    }

    #[test]
    fn weights_are_counted_before_they_are_listed() {
        use super::super::MAX_WEIGHTS;
        // `Linear * 4096` in a block repeated 4096 times: 2^25 arrays.
        let mut linear = node("Linear", &["4"], &["x"], Some("y"));
        linear.repeat = 4096;
        let block = spec(&[input("x", "B 4")], vec![linear], &["y"]);
        let block = Arc::new(Graph::build(&block, &|_| None).unwrap());
        assert_eq!(block.weights.len(), 8192);
        let mut nested = node("Block", &[], &["x"], Some("y"));
        nested.repeat = 4096;
        let outer = spec(&[input("x", "B 4")], vec![nested], &["y"]);
        let lookup =
            |name: &str| (name == "Block").then(|| super::super::Nested::Model(Arc::clone(&block)));
        let errors = Graph::build(&outer, &lookup).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].site, crate::graph::Site::NodeRepeat(0));
        assert_eq!(
            errors[0].message,
            format!(
                "layer `block_0` brings the model to 33554432 parameter arrays, more than the {MAX_WEIGHTS} a model may hold (every repeat and nested model counts its own)"
            )
        );
        // Each model of a chain using the one before twice doubles the
        // arrays: the chain stops where it passes the bound.
        let mut previous = Arc::new(
            Graph::build(
                &spec(
                    &[input("x", "B 4")],
                    vec![node("Linear", &["4"], &["x"], Some("y"))],
                    &["y"],
                ),
                &|_| None,
            )
            .unwrap(),
        );
        let mut levels = 0;
        loop {
            let twice = spec(
                &[input("x", "B 4")],
                vec![
                    node("Prev", &[], &["x"], Some("h")),
                    node("Prev", &[], &["h"], Some("y")),
                ],
                &["y"],
            );
            let lookup = |name: &str| {
                (name == "Prev").then(|| super::super::Nested::Model(Arc::clone(&previous)))
            };
            match Graph::build(&twice, &lookup) {
                Ok(g) => previous = Arc::new(g),
                Err(errors) => {
                    assert!(errors[0].message.contains("parameter arrays"));
                    break;
                }
            }
            levels += 1;
        }
        assert_eq!(previous.weights.len(), MAX_WEIGHTS);
        assert_eq!(levels, 17);
    }

    #[test]
    fn element_counts_that_overflow_are_none() {
        assert_eq!(super::element_count(&[2, 3]), Some(6));
        assert_eq!(super::element_count(&[]), Some(1));
        assert_eq!(super::element_count(&[usize::MAX, 2]), None);
        assert_eq!(super::element_count(&[1 << 32, 1 << 32]), None);
    }
}

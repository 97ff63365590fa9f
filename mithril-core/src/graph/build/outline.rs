//! The outline of a model that may not check: each node's name and what it
//! would own, from the passes that need no shapes. The macro expands a
//! model that failed from it, so that code using the model's parameters
//! sees the same fields and reports nothing more.

use std::sync::Arc;

use crate::graph::error::Errors;
use crate::graph::{Graph, ModelSpec};
use crate::layers::Layer;
use crate::shape::Shape;

use super::{ModelLookup, Nested, names, ops};

/// A node as far as it is known without shapes.
#[derive(Clone, Debug)]
pub struct NodeOutline {
    /// Its name, as [`Graph::build`] would give it.
    pub name: String,
    /// Its index in the spec.
    pub source: usize,
    /// What it is.
    pub kind: OutlineKind,
}

/// What an outlined node computes.
#[derive(Clone, Debug)]
pub enum OutlineKind {
    /// A built-in layer, with the names of the weights one application owns.
    Layer {
        /// The layer.
        layer: Layer,
        /// Its weights' names within the layer (`weight`, `bias`).
        weights: Vec<&'static str>,
    },
    /// A nested model (its graph, where it checked).
    Model(Option<Arc<Graph>>),
    /// Unknown: a layer whose arguments fail, or a name nothing defines.
    Unknown,
}

pub(super) fn outline(spec: &ModelSpec, models: ModelLookup<'_>) -> Vec<NodeOutline> {
    // The problems are the build's to report; the outline only describes.
    let mut ignored = Errors::default();
    let names = names::assign(spec, &mut ignored);
    spec.nodes
        .iter()
        .enumerate()
        .zip(names)
        .map(|((i, node), name)| {
            let kind = match ops::op_of(i, node, models, &mut ignored) {
                Some(crate::graph::Op::Layer(layer)) => {
                    // Names do not depend on shapes; sizes a rule cannot
                    // read count as 1.
                    let unknown = vec![Shape::default(); node.inputs.len().max(1)];
                    // A parameter another's `share` replaces is not the layer's own.
                    let shared = |w: &str| {
                        spec.shares
                            .iter()
                            .any(|s| *s.target == format!("{name}.{w}"))
                    };
                    let weights = layer
                        .weights(&unknown)
                        .iter()
                        .map(|w| w.name)
                        .filter(|w| !shared(w))
                        .collect();
                    OutlineKind::Layer { layer, weights }
                }
                Some(crate::graph::Op::Model(graph)) => OutlineKind::Model(Some(graph)),
                None => match models(&node.layer) {
                    Some(Nested::Failed | Nested::Family(_)) => OutlineKind::Model(None),
                    Some(Nested::Model(graph)) => OutlineKind::Model(Some(graph)),
                    None => OutlineKind::Unknown,
                },
            };
            NodeOutline {
                name,
                source: i,
                kind,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{input, node, spec};
    use super::*;

    #[test]
    fn outline_of_a_model_that_fails() {
        let s = spec(
            &[input("x", "B T")],
            vec![
                // Fails: the last axis into Linear must be a literal.
                node("Linear", &["4"], &["x"], Some("h")),
                node("LayerNorm", &[], &["h"], Some("n")),
                node("Failed", &[], &["n"], Some("m")),
                node("Linear", &["oops"], &["m"], Some("y")),
            ],
            &["y"],
        );
        assert!(Graph::build(&s, &|_| Some(Nested::Failed)).is_err());
        let outline = Graph::outline(&s, &|name| (name == "Failed").then_some(Nested::Failed));
        let summary: Vec<String> = outline
            .iter()
            .map(|n| match &n.kind {
                OutlineKind::Layer { weights, .. } => format!("{}: {weights:?}", n.name),
                OutlineKind::Model(g) => format!("{}: model, checked {}", n.name, g.is_some()),
                OutlineKind::Unknown => format!("{}: unknown", n.name),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "linear_0: [\"weight\", \"bias\"]",
                "layer_norm_0: [\"weight\", \"bias\"]",
                "failed_0: model, checked false",
                "linear_1: unknown",
            ]
        );
    }
}

//! `Graph::build`: the passes that check a [`ModelSpec`] and infer every
//! shape, in order. Each pass reports what it finds and hands the next one
//! what it could make sense of; a value that depends on something that
//! failed is skipped silently, so each mistake is reported once.
//!
//! 1. [`values`]: the named values (inputs and `=> name`s);
//! 2. [`names`]: each node's name (the user's or `<kind>_<n>`);
//! 3. [`wiring`]: each node input and each output resolved to a value;
//! 4. [`order`]: the execution order (a cycle is an error);
//! 5. [`ops`]: each node's layer or nested model, and its number of inputs;
//! 6. [`shapes`]: every node's output shape, in execution order;
//! 7. [`weights`]: every parameter with its dotted path;
//! 8. [`shares`]: parameters that are another's (`share a.weight = b.weight;`).
//!
//! [`outline`] runs the passes that do not need shapes, for the items of a
//! model that failed.

mod names;
mod ops;
mod order;
mod outline;
mod shapes;
mod shares;
mod values;
mod weights;
mod wiring;

#[cfg(test)]
pub(crate) mod tests;

use std::sync::Arc;

pub use names::node_names;
pub use ops::repeat_out_of_range;
pub use outline::{NodeOutline, OutlineKind};
pub use values::size_out_of_range;
pub(crate) use weights::element_count;

use super::error::Errors;
use super::{BuildError, Graph, GraphOutput, ModelSpec, Site, ValueId};

/// What a name used as a layer refers to when it is no built-in layer.
#[derive(Clone, Debug)]
pub enum Nested {
    /// A model that checked.
    Model(Arc<Graph>),
    /// A model family: instantiated with the node's arguments.
    Family(Arc<crate::family::Template>),
    /// A model that exists but failed its own checks (reported there):
    /// nodes using it are skipped without a further error.
    Failed,
}

/// Finds nested models by the name or path written as their layer.
pub type ModelLookup<'a> = &'a dyn Fn(&str) -> Option<Nested>;

/// The largest repeat count (`Block * N`).
pub const MAX_REPEAT: usize = 4096;

/// The most parameter arrays a model may hold, those of its nested models
/// and repeats included: 2^18, several times what the largest models
/// written layer by layer have (a mixture of experts of 61 layers of 256
/// experts has about 47,000), and few enough to list quickly.
pub const MAX_WEIGHTS: usize = 1 << 18;

impl Graph {
    /// Checks a model and infers every shape. Reports every independent
    /// problem; the list is empty when the model fails only because a model
    /// it nests failed (whose own build reported why).
    pub fn build(spec: &ModelSpec, models: ModelLookup<'_>) -> Result<Graph, Vec<BuildError>> {
        let mut errors = Errors::default();
        let values = values::declare(spec, &mut errors);
        let names = names::assign(spec, &mut errors);
        let wiring = wiring::resolve(spec, &values, &mut errors);
        let order = order::topological(spec, &wiring, &names, &mut errors);
        let ops = ops::resolve(spec, models, &mut errors);
        let shaped = shapes::infer(
            spec,
            &values.inputs,
            &wiring,
            &order,
            ops,
            &names,
            &mut errors,
        );
        let (mut nodes, weights) = weights::assign(spec, &names, shaped, &mut errors);
        let weights = shares::apply(spec, &mut nodes, weights, &mut errors);

        let position = |source: usize| nodes.iter().position(|n| n.source == source);
        let mut outputs = Vec::new();
        for (name, slot) in spec.outputs.iter().zip(&wiring.outputs) {
            let value = match slot {
                Some(wiring::Slot::Input(k)) => Some(ValueId::Input(*k)),
                Some(wiring::Slot::Node(j)) => position(*j).map(ValueId::Node),
                Some(wiring::Slot::Part(j, b)) => position(*j).and_then(|p| {
                    let wanted = &spec.nodes[*j].bindings[*b].output;
                    match &nodes[p].op {
                        crate::graph::Op::Model(g) => g
                            .outputs
                            .iter()
                            .position(|o| o.name == **wanted)
                            .map(|output| ValueId::Part { node: p, output }),
                        crate::graph::Op::Layer(_) => None,
                    }
                }),
                // `output` lists names only.
                Some(wiring::Slot::Literal(_)) | None => None,
            };
            if let Some(value) = value {
                let shape = match value {
                    ValueId::Input(k) => values.inputs[k].shape.clone(),
                    ValueId::Node(p) => nodes[p].shape.clone(),
                    ValueId::Part { node, output } => nodes[node].parts[output].clone(),
                    ValueId::Literal(_) => crate::shape::Shape::default(),
                };
                outputs.push(GraphOutput {
                    name: name.to_string(),
                    value,
                    shape,
                });
            }
        }

        let total = weights
            .iter()
            .try_fold(0usize, |acc, w| acc.checked_add(w.len()));
        if total.is_none() {
            errors.push(
                Site::Model,
                "the model's parameters add up to more scalars than memory can hold",
            );
        }
        if !errors.failed() {
            Ok(Graph {
                name: spec.name.to_string(),
                inputs: values.inputs,
                nodes,
                outputs,
                weights,
            })
        } else {
            Err(errors.0)
        }
    }

    /// The checks that need no sizes: named values, node names, wiring and
    /// the execution order (what a family without a default for every
    /// parameter can be checked for before it is instantiated).
    pub fn check_structure(spec: &ModelSpec) -> Vec<BuildError> {
        let mut errors = Errors::default();
        let values = values::declare(spec, &mut errors);
        let names = names::assign(spec, &mut errors);
        let wiring = wiring::resolve(spec, &values, &mut errors);
        order::topological(spec, &wiring, &names, &mut errors);
        errors.0
    }

    /// Each node's name and what it would own, for a model that may not
    /// check: the same names as [`Graph::build`] gives, and each layer's
    /// parameters as far as they can be known without shapes.
    pub fn outline(spec: &ModelSpec, models: ModelLookup<'_>) -> Vec<NodeOutline> {
        outline::outline(spec, models)
    }
}

//! Pass 1: the named values. Inputs with their declared shapes, and each
//! `=> name` with the node that defines it.

use std::collections::BTreeMap;

use crate::dim::{Dim, MAX_SIZE};
use crate::graph::error::Errors;
use crate::graph::{DimSpec, GraphInput, ModelSpec, Site};
use crate::shape::Shape;

use super::wiring::Slot;

/// The model's named values.
pub(super) struct Values<'a> {
    /// Declared inputs, in order.
    pub inputs: Vec<GraphInput>,
    /// Every name a node may read: inputs and `=> name` definitions.
    pub named: BTreeMap<&'a str, Slot>,
}

pub(super) fn declare<'a>(spec: &'a ModelSpec, errors: &mut Errors) -> Values<'a> {
    let mut named: BTreeMap<&str, Slot> = BTreeMap::new();
    let mut inputs = Vec::new();
    for (i, input) in spec.inputs.iter().enumerate() {
        if named.insert(&input.name, Slot::Input(i)).is_some() {
            errors.push(
                Site::Input(i),
                format!("input `{}` is declared twice", input.name),
            );
        }
        if input.dims.is_empty() {
            errors.push(
                Site::Input(i),
                format!("input `{}` needs at least one dimension", input.name),
            );
        }
        for d in input.dims.iter() {
            if let DimSpec::Lit(n) = d
                && !(1..=MAX_SIZE).contains(n)
            {
                errors.push(Site::Input(i), size_out_of_range(&n.to_string()));
            }
        }
        inputs.push(GraphInput {
            name: input.name.to_string(),
            shape: Shape(input.dims.iter().map(DimSpec::dim).collect()),
            differentiable: input.differentiable,
        });
    }
    for (i, node) in spec.nodes.iter().enumerate() {
        for (b, binding) in node.bindings.iter().enumerate() {
            let value = &*binding.value;
            let site = Site::NodeBinding {
                node: i,
                binding: b,
            };
            match named.get(value) {
                Some(Slot::Input(_)) => errors.push(
                    site,
                    format!("`{value}` is already a model input; choose another name"),
                ),
                Some(_) => errors.push(site, format!("value `{value}` is defined twice")),
                None => {
                    named.insert(value, Slot::Part(i, b));
                }
            }
            if node.bindings[..b]
                .iter()
                .any(|o| o.output == binding.output)
            {
                errors.push(site, format!("output `{}` is bound twice", binding.output));
            }
        }
        if let Some(out) = &node.output {
            match named.get(&**out) {
                Some(Slot::Input(_)) => errors.push(
                    Site::NodeOutput(i),
                    format!("`{out}` is already a model input; choose another name"),
                ),
                // Names are only ever inputs and nodes.
                Some(Slot::Node(_) | Slot::Part(..) | Slot::Literal(_)) => errors.push(
                    Site::NodeOutput(i),
                    format!("value `{out}` is defined twice"),
                ),
                None => {
                    named.insert(out, Slot::Node(i));
                }
            }
        }
    }
    Values { inputs, named }
}

/// The error for a declared size outside `1..=MAX_SIZE`, given as written.
pub fn size_out_of_range(found: &str) -> String {
    format!(
        "a dimension must be a size from 1 to {MAX_SIZE} (MLX's largest axis) or a symbol such as `B`, found `{found}`"
    )
}

/// The symbols the inputs declare: the only ones a model's shapes may use.
pub(super) fn declared_symbols(inputs: &[GraphInput]) -> Vec<std::sync::Arc<str>> {
    let mut symbols = Vec::new();
    for input in inputs {
        for d in &input.shape.0 {
            if let Dim::Sym(s) = d
                && !symbols.contains(s)
            {
                symbols.push(s.clone());
            }
        }
    }
    symbols
}

#[cfg(test)]
mod tests {
    use super::super::tests::{input, messages, node, spec};
    use super::*;

    #[test]
    fn inputs_and_targets_are_named_once() {
        let s = spec(
            &[input("x", "B 4"), input("x", "B 4")],
            vec![
                node("Relu", &[], &["x"], Some("x")),
                node("Relu", &[], &["x"], Some("h")),
                node("Relu", &[], &["x"], Some("h")),
            ],
            &["h"],
        );
        let mut errors = Errors::default();
        let values = declare(&s, &mut errors);
        assert_eq!(
            messages(&errors),
            [
                "Input(1): input `x` is declared twice",
                "NodeOutput(0): `x` is already a model input; choose another name",
                "NodeOutput(2): value `h` is defined twice",
            ]
        );
        assert_eq!(values.inputs.len(), 2);
        assert!(matches!(values.named["h"], Slot::Node(1)));
    }

    #[test]
    fn sizes_are_checked_against_mlx_limit() {
        let s = spec(&[input("x", "0 2147483648 B")], vec![], &["x"]);
        let mut errors = Errors::default();
        declare(&s, &mut errors);
        assert_eq!(errors.0.len(), 2, "{:?}", errors.0);
        assert!(errors.0[1].message.contains("found `2147483648`"));
    }

    #[test]
    fn declared_symbols_in_order() {
        let s = spec(&[input("x", "B T 4"), input("m", "B S")], vec![], &["x"]);
        let mut errors = Errors::default();
        let values = declare(&s, &mut errors);
        let symbols: Vec<String> = declared_symbols(&values.inputs)
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(symbols, ["B", "T", "S"]);
    }
}

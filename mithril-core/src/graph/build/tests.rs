//! Small specs for the passes' unit tests, written tersely.

use std::borrow::Cow;

use crate::args::{ArgSpec, ArgValue};
use crate::graph::error::Errors;
use crate::graph::{DimSpec, InputSpec, ModelSpec, NodeSpec, ValueRef};

/// A model `Test` with these inputs, nodes and outputs.
pub(crate) fn spec(inputs: &[InputSpec], nodes: Vec<NodeSpec>, outputs: &[&str]) -> ModelSpec {
    ModelSpec {
        params: Cow::Borrowed(&[]),
        loops: Cow::Borrowed(&[]),
        name: Cow::Borrowed("Test"),
        inputs: inputs.to_vec().into(),
        nodes: nodes.into(),
        outputs: outputs
            .iter()
            .map(|o| Cow::Owned(o.to_string()))
            .collect::<Vec<_>>()
            .into(),
        shares: Vec::new().into(),
    }
}

/// `input("x", "B 28 28")`: dims separated by spaces.
pub(crate) fn input(name: &str, dims: &str) -> InputSpec {
    InputSpec {
        name: Cow::Owned(name.to_string()),
        dims: dims
            .split_whitespace()
            .map(|d| match d.parse() {
                Ok(n) => DimSpec::Lit(n),
                Err(_) => DimSpec::Sym(Cow::Owned(d.to_string())),
            })
            .collect::<Vec<_>>()
            .into(),
        differentiable: true,
    }
}

/// An unnamed node reading named values: `node("Linear", &["8", "bias = false"], &["x"], Some("h"))`.
pub(crate) fn node(layer: &str, args: &[&str], inputs: &[&str], output: Option<&str>) -> NodeSpec {
    NodeSpec {
        name: None,
        layer: Cow::Owned(layer.to_string()),
        choice: None,
        args: args.iter().map(|a| arg(a)).collect::<Vec<_>>().into(),
        inputs: inputs
            .iter()
            .map(|i| ValueRef::Named(Cow::Owned(i.to_string())))
            .collect::<Vec<_>>()
            .into(),
        output: output.map(|o| Cow::Owned(o.to_string())),
        bindings: Cow::Borrowed(&[]),
        repeat: 1,
        repeat_expr: None,
        checkpoint: false,
    }
}

/// The node with a user name.
pub(crate) fn named(name: &str, mut node: NodeSpec) -> NodeSpec {
    node.name = Some(Cow::Owned(name.to_string()));
    node
}

/// `"4"`, `"units = 4"`, `"same"`, `"[B, 10]"`, `"false"`.
fn arg(text: &str) -> ArgSpec {
    match text.split_once(" = ") {
        Some((name, value)) => ArgSpec {
            name: Some(Cow::Owned(name.to_string())),
            value: value_of(value),
        },
        None => ArgSpec {
            name: None,
            value: value_of(text),
        },
    }
}

fn value_of(text: &str) -> ArgValue {
    if let Some(items) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return ArgValue::List(items.split(", ").map(value_of).collect::<Vec<_>>().into());
    }
    match text {
        "true" => ArgValue::Bool(true),
        "false" => ArgValue::Bool(false),
        _ => match text.parse() {
            Ok(n) => ArgValue::Int(n),
            Err(_) => match text.parse() {
                Ok(x) => ArgValue::Float(x),
                Err(_) => ArgValue::Ident(Cow::Owned(text.to_string())),
            },
        },
    }
}

/// `"Site: message"` per error, to compare in one assertion.
pub(crate) fn messages(errors: &Errors) -> Vec<String> {
    errors
        .0
        .iter()
        .map(|e| format!("{:?}: {}", e.site, e.message))
        .collect()
}

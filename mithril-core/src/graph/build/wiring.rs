//! Pass 3: wiring. Each node input and each `output` resolved to a value;
//! unknown names (with the closest one suggested), outputs listed twice, a
//! missing `output` statement, and inputs or values nobody reads.

use crate::graph::error::Errors;
use crate::graph::{ModelSpec, Scalar, Site, ValueRef};

use super::values::Values;

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    /// Model input `i`.
    Input(usize),
    /// The output of the node at this source index.
    Node(usize),
    /// Binding `binding` (`=> { output: name }`) of the node at this source index.
    Part(usize, usize),
    /// A number written as an operand.
    Literal(Scalar),
}

/// Every value read, resolved; `None` where the name is unknown (reported).
pub(super) struct Wiring {
    /// Per node, per input.
    pub inputs: Vec<Vec<Option<Slot>>>,
    /// Per `output` entry.
    pub outputs: Vec<Option<Slot>>,
}

pub(super) fn resolve(spec: &ModelSpec, values: &Values<'_>, errors: &mut Errors) -> Wiring {
    let known: Vec<&str> = values.named.keys().copied().collect();
    let mut used: Vec<&str> = Vec::new();

    let mut inputs = Vec::with_capacity(spec.nodes.len());
    for (i, node) in spec.nodes.iter().enumerate() {
        let mut slots = Vec::with_capacity(node.inputs.len());
        for (k, input) in node.inputs.iter().enumerate() {
            slots.push(match input {
                ValueRef::Node(j) => Some(Slot::Node(*j)),
                ValueRef::Literal(x) => Some(Slot::Literal(*x)),
                // Templates are instantiated before they are built.
                ValueRef::Expr(_) => Some(Slot::Literal(crate::graph::Scalar::new(0.0))),
                ValueRef::Named(n) => {
                    used.push(n);
                    let slot = values.named.get(&**n).copied();
                    if slot.is_none() {
                        let mut hint = suggest(n, &known, &mut used);
                        if hint.is_empty() && looks_like_a_constant(n) {
                            hint = format!(
                                "; a Rust constant cannot be an operand (the macro reads the model while the crate compiles, before constants have values): write the number itself, as in `{}(x, 0.5)`",
                                node.kind()
                            );
                        }
                        errors.push(
                            Site::NodeInput { node: i, input: k },
                            format!("unknown value `{n}`{hint}"),
                        );
                    }
                    slot
                }
            });
        }
        inputs.push(slots);
    }

    let mut outputs = Vec::with_capacity(spec.outputs.len());
    for (i, out) in spec.outputs.iter().enumerate() {
        used.push(out);
        if spec.outputs[..i].contains(out) {
            errors.push(Site::Output(i), format!("output `{out}` is listed twice"));
        }
        let slot = values.named.get(&**out).copied();
        if slot.is_none() {
            let hint = suggest(out, &known, &mut used);
            errors.push(
                Site::Output(i),
                format!("unknown value `{out}` in `output`{hint}"),
            );
        }
        outputs.push(slot);
    }
    if spec.outputs.is_empty() {
        errors.push(
            Site::Model,
            format!("model `{}` has no `output` statement", spec.name),
        );
    }

    for (i, input) in spec.inputs.iter().enumerate() {
        if !used.contains(&&*input.name) {
            errors.push(
                Site::Input(i),
                format!("input `{}` is never used", input.name),
            );
        }
    }
    // Without an `output` statement every final value looks unused; the
    // missing statement is the one error to report then.
    if !spec.outputs.is_empty() {
        for (i, node) in spec.nodes.iter().enumerate() {
            for (b, binding) in node.bindings.iter().enumerate() {
                // An output bound twice is reported as such.
                let again = node.bindings[..b]
                    .iter()
                    .any(|o| o.output == binding.output);
                if !again && !used.contains(&&*binding.value) {
                    errors.push(
                        Site::NodeBinding { node: i, binding: b },
                        format!(
                            "value `{}` is never used; feed it to a layer or list it in `output` (an output that is not needed need not be bound)",
                            binding.value
                        ),
                    );
                }
            }
            if let Some(out) = &node.output
                && !used.contains(&&**out)
            {
                errors.push(
                    Site::NodeOutput(i),
                    format!(
                        "value `{out}` is never used; feed it to a layer or list it in `output`"
                    ),
                );
            }
        }
    }
    Wiring { inputs, outputs }
}

/// Whether a name is written like a Rust constant, `SCALE` or `EPS_2`.
fn looks_like_a_constant(name: &str) -> bool {
    name.len() > 1
        && name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The hint for an unknown name. The suggested name is probably the one
/// meant, so it is not also reported as unused.
fn suggest<'a>(name: &str, known: &[&'a str], used: &mut Vec<&'a str>) -> String {
    let suggestion = crate::closest(name, known);
    used.extend(suggestion);
    suggestion
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{input, messages, node, spec};
    use super::super::values;
    use super::*;

    fn wire(s: &ModelSpec) -> (Wiring, Vec<String>) {
        let mut errors = Errors::default();
        let values = values::declare(s, &mut errors);
        let wiring = resolve(s, &values, &mut errors);
        (wiring, messages(&errors))
    }

    #[test]
    fn resolves_names_and_pipeline_stages() {
        let mut stage = node("Relu", &[], &[], Some("y"));
        stage.inputs = vec![ValueRef::Node(0)].into();
        let s = spec(
            &[input("x", "B 4")],
            vec![node("Linear", &["4"], &["x"], None), stage],
            &["y"],
        );
        let (wiring, errors) = wire(&s);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            wiring.inputs,
            [vec![Some(Slot::Input(0))], vec![Some(Slot::Node(0))]]
        );
        assert_eq!(wiring.outputs, [Some(Slot::Node(1))]);
    }

    #[test]
    fn unknown_names_suggest_and_count_as_used() {
        let s = spec(
            &[input("x", "B 4"), input("unused", "B")],
            vec![
                node("Relu", &[], &["x"], Some("hidden")),
                node("Relu", &[], &["hiden"], Some("y")),
            ],
            &["y", "y", "zzz"],
        );
        let (_, errors) = wire(&s);
        assert_eq!(
            errors,
            [
                "NodeInput { node: 1, input: 0 }: unknown value `hiden`; did you mean `hidden`?",
                "Output(1): output `y` is listed twice",
                "Output(2): unknown value `zzz` in `output`",
                "Input(1): input `unused` is never used",
            ]
        );
    }

    #[test]
    fn a_constant_as_an_operand_is_explained() {
        let s = spec(
            &[input("x", "B 4")],
            vec![node("Multiply", &[], &["x", "SCALE"], Some("y"))],
            &["y"],
        );
        let (_, errors) = wire(&s);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].ends_with("unknown value `SCALE`; a Rust constant cannot be an operand (the macro reads the model while the crate compiles, before constants have values): write the number itself, as in `Multiply(x, 0.5)`"),
            "{errors:?}"
        );
    }

    #[test]
    fn without_output_only_that_is_reported() {
        let s = spec(
            &[input("x", "B 4")],
            vec![node("Relu", &[], &["x"], Some("y"))],
            &[],
        );
        let (_, errors) = wire(&s);
        assert_eq!(errors, ["Model: model `Test` has no `output` statement"]);
    }
}

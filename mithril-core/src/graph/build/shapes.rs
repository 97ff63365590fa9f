//! Pass 6: shapes. Each node's output shape from its inputs' shapes, in
//! execution order, with the layer's rule (or a nested model's signature).
//! A repeated layer must keep its input's shape; every size must fit MLX's
//! axes; and a shape may only use symbols that the model's inputs bind.

use std::sync::Arc;

use crate::dim::{Dim, MAX_SIZE};
use crate::graph::error::Errors;
use crate::graph::{GraphInput, ModelSpec, Op, Site, ValueId};
use crate::layers::Operand;
use crate::shape::Shape;

use super::values::declared_symbols;
use super::wiring::{Slot, Wiring};

/// A node whose output shape is known.
pub(super) struct Shaped {
    /// Its index in the spec.
    pub source: usize,
    /// What it computes.
    pub op: Op,
    /// Its inputs.
    pub inputs: Vec<ValueId>,
    /// Their shapes.
    pub input_shapes: Vec<Shape>,
    /// Its output shape.
    pub shape: Shape,
    /// Every output's shape, for a node whose outputs are bound by name.
    pub parts: Vec<Shape>,
}

/// The nodes whose shapes could be inferred, in execution order.
pub(super) fn infer(
    spec: &ModelSpec,
    inputs: &[GraphInput],
    wiring: &Wiring,
    order: &[usize],
    mut ops: Vec<Option<Op>>,
    names: &[String],
    errors: &mut Errors,
) -> Vec<Shaped> {
    let symbols = declared_symbols(inputs);
    let scalar = Shape::default();
    let mut shaped: Vec<Shaped> = Vec::with_capacity(order.len());
    // Execution position of each node that has a shape, by source index.
    let mut position: Vec<Option<usize>> = vec![None; spec.nodes.len()];
    for &i in order {
        let Some(op) = ops[i].take() else {
            continue;
        };
        // Inputs that failed earlier make this node unknown, silently.
        let Some(ids) = wiring.inputs[i]
            .iter()
            .map(|slot| match slot {
                Some(Slot::Input(k)) => Some(ValueId::Input(*k)),
                Some(Slot::Node(j)) => position.get(*j).copied().flatten().map(ValueId::Node),
                Some(Slot::Part(j, b)) => {
                    let p = position.get(*j).copied().flatten()?;
                    let wanted = &spec.nodes[*j].bindings[*b].output;
                    let output = match &shaped[p].op {
                        Op::Model(g) => g.outputs.iter().position(|o| o.name == **wanted)?,
                        Op::Layer(_) => return None,
                    };
                    Some(ValueId::Part { node: p, output })
                }
                Some(Slot::Literal(x)) => Some(ValueId::Literal(*x)),
                None => None,
            })
            .collect::<Option<Vec<ValueId>>>()
        else {
            continue;
        };
        let shape_of = |v: ValueId| match v {
            ValueId::Input(k) => &inputs[k].shape,
            ValueId::Node(p) => &shaped[p].shape,
            ValueId::Part { node, output } => &shaped[node].parts[output],
            ValueId::Literal(_) => &scalar,
        };
        let label = |v: ValueId| match v {
            ValueId::Input(k) => format!("`{}`", inputs[k].name),
            ValueId::Node(p) => {
                let source = shaped[p].source;
                match &spec.nodes[source].output {
                    Some(name) => format!("`{name}`"),
                    None => format!("the output of `{}`", names[source]),
                }
            }
            ValueId::Part { node, output } => {
                let source = shaped[node].source;
                match spec.nodes[source].bindings.iter().find(|b| {
                    matches!(&shaped[node].op, Op::Model(g) if g.outputs[output].name == *b.output)
                }) {
                    Some(b) => format!("`{}`", b.value),
                    None => format!("the output of `{}`", names[source]),
                }
            }
            ValueId::Literal(x) => format!("`{x}`"),
        };
        let labels: Vec<String> = ids.iter().map(|v| label(*v)).collect();
        let input_shapes: Vec<Shape> = ids.iter().map(|v| shape_of(*v).clone()).collect();
        let operands: Vec<Operand<'_>> = input_shapes
            .iter()
            .zip(&labels)
            .map(|(s, l)| Operand { label: l, shape: s })
            .collect();
        let node = &spec.nodes[i];
        let inferred = match node.bindings.is_empty() {
            true => op.infer(&operands).map(|s| (s, Vec::new())),
            false => op.infer_all(&operands).map(|all| (all[0].clone(), all)),
        };
        let (shape, parts) = match inferred {
            Ok(found) => found,
            Err(e) => {
                errors.push(Site::Node(i), e.message);
                continue;
            }
        };
        if node.repeat > 1 && shape != input_shapes[0] {
            errors.push(
                Site::NodeRepeat(i),
                format!(
                    "`{}` is repeated, so its output must keep its input's shape: it maps {} to {}",
                    node.layer, input_shapes[0], shape
                ),
            );
            continue;
        }
        if let Some(message) = check_sizes(&shape, &symbols, &node.call_text()) {
            errors.push(Site::Node(i), message);
            continue;
        }
        position[i] = Some(shaped.len());
        shaped.push(Shaped {
            source: i,
            op,
            inputs: ids,
            input_shapes,
            shape,
            parts,
        });
    }
    shaped
}

/// Why an output shape cannot be: an axis too large for MLX, or a symbol
/// no input binds (a declared `Lambda` shape, a `Reshape` target).
fn check_sizes(shape: &Shape, symbols: &[Arc<str>], call: &str) -> Option<String> {
    for d in &shape.0 {
        let mut used = Vec::new();
        d.symbols(&mut used);
        if let Some(unbound) = used.iter().find(|s| !symbols.contains(s)) {
            let declared: Vec<String> = symbols.iter().map(|s| format!("`{s}`")).collect();
            let declared = if declared.is_empty() {
                "the inputs declare none".to_string()
            } else {
                format!("the inputs declare {}", declared.join(", "))
            };
            return Some(format!(
                "`{call}` gives shape {shape}, whose symbol `{unbound}` no input binds ({declared}); a symbol gets its size from an input's shape"
            ));
        }
        let too_large = match d {
            Dim::Lit(n) => *n > MAX_SIZE,
            // Only a product too large to fold is a symbol-free expression.
            Dim::Expr(_) => used.is_empty(),
            Dim::Sym(_) => false,
        };
        if too_large {
            return Some(format!(
                "`{call}` gives shape {shape}, with an axis larger than {MAX_SIZE} (MLX's largest)"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::tests::{input, messages, node, spec};
    use super::super::{names, ops, order, values, wiring};
    use super::*;

    fn shapes(s: &ModelSpec) -> (Vec<(usize, String)>, Vec<String>) {
        let mut errors = Errors::default();
        let values = values::declare(s, &mut errors);
        let names = names::assign(s, &mut errors);
        let wiring = wiring::resolve(s, &values, &mut errors);
        let order = order::topological(s, &wiring, &names, &mut errors);
        let ops = ops::resolve(s, &|_| None, &mut errors);
        let shaped = infer(s, &values.inputs, &wiring, &order, ops, &names, &mut errors);
        let out = shaped
            .iter()
            .map(|n| (n.source, n.shape.to_string()))
            .collect();
        (out, messages(&errors))
    }

    #[test]
    fn shapes_flow_and_failures_do_not_cascade() {
        let s = spec(
            &[input("x", "B 4"), input("y", "B 8")],
            vec![
                node("Linear", &["16"], &["x"], Some("h")),
                node("Add", &[], &["h", "y"], Some("bad")),
                node("Relu", &[], &["bad"], Some("after")),
                node("Concat", &[], &["h", "y"], Some("joined")),
            ],
            &["after", "joined"],
        );
        let (out, errors) = shapes(&s);
        assert_eq!(
            out,
            [(0, "[B, 16]".to_string()), (3, "[B, 24]".to_string())]
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("Node(1): `Add` needs equal"),
            "{errors:?}"
        );
    }

    #[test]
    fn repeats_keep_shape() {
        let mut repeated = node("Linear", &["8"], &["x"], Some("y"));
        repeated.repeat = 3;
        let s = spec(&[input("x", "B 4")], vec![repeated], &["y"]);
        let (_, errors) = shapes(&s);
        assert_eq!(
            errors,
            [
                "NodeRepeat(0): `Linear` is repeated, so its output must keep its input's shape: it maps [B, 4] to [B, 8]"
            ]
        );
    }

    #[test]
    fn symbols_must_be_bound_by_inputs() {
        let s = spec(
            &[input("x", "B 4")],
            vec![node("Lambda", &["f", "shape = [B, K]"], &["x"], Some("y"))],
            &["y"],
        );
        let (out, errors) = shapes(&s);
        assert!(out.is_empty());
        assert_eq!(
            errors,
            [
                "Node(0): `Lambda(f, shape = [B, K])` gives shape [B, K], whose symbol `K` no input binds (the inputs declare `B`); a symbol gets its size from an input's shape"
            ]
        );
    }

    #[test]
    fn sizes_beyond_mlx_axes_are_errors() {
        let s = spec(
            &[input("x", "2147483647 2147483647 2147483647")],
            vec![node("Flatten", &["start = 0"], &["x"], Some("y"))],
            &["y"],
        );
        let (out, errors) = shapes(&s);
        assert!(out.is_empty());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("larger than 2147483647"), "{errors:?}");
    }
}

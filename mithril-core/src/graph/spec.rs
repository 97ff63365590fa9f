//! What `model!` writes down: a model as declared, before any checking.
//!
//! Every type here can be built in a `static` (its strings and lists are
//! [`Cow`](std::borrow::Cow)s), which is how generated code embeds the spec:
//! as data, with no code to run or optimise.

use crate::args::{ArgSpec, List, Str};
use crate::dim::Dim;
use crate::family::{Expr, ParamSpec};

/// A model as written: the macro's parse, and static data in generated code.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    /// The model's name.
    pub name: Str,
    /// Its parameters (a model family's), in order; empty for a plain model.
    pub params: List<ParamSpec>,
    /// Declared inputs, in order.
    pub inputs: List<InputSpec>,
    /// Layer applications, in source order.
    pub nodes: List<NodeSpec>,
    /// Values returned, in order.
    pub outputs: List<Str>,
    /// Parameters that are another's (`share head.weight = embed.weight;`).
    pub shares: List<ShareSpec>,
    /// Loops in pipelines (`-> for i in 0..len(dims) { Linear(dims[i]) }`),
    /// unrolled when the model is instantiated.
    pub loops: List<LoopSpec>,
}

/// `for i in start..end { stages }` in a pipeline: the nodes
/// `first..first + len` are its body, applied once per `i`, each
/// application's first stage fed by the previous one's last.
#[derive(Clone, Debug, PartialEq)]
pub struct LoopSpec {
    /// The index's name, read by the body's expressions.
    pub var: Str,
    /// The first index.
    pub start: Expr,
    /// One past the last index.
    pub end: Expr,
    /// The body's first node.
    pub first: usize,
    /// How many nodes the body has.
    pub len: usize,
}

/// `share head.weight = embed.weight;`: the layer parameter `target` is not
/// a parameter of its own but `source` (weight tying). Both are dotted
/// parameter paths, as mlx.nn names them (`blocks.0.fc.weight`).
#[derive(Clone, Debug, PartialEq)]
pub struct ShareSpec {
    /// The parameter that is not its own.
    pub target: Str,
    /// The parameter it is.
    pub source: Str,
}

/// `input image: [B, 28, 28, 1]`
#[derive(Clone, Debug, PartialEq)]
pub struct InputSpec {
    /// The value's name.
    pub name: Str,
    /// Its declared dims.
    pub dims: List<DimSpec>,
    /// Whether gradients flow into it: `false` for a `static` input (data,
    /// such as labels or masks, kept out of gradients as Mithril's static
    /// keys are).
    pub differentiable: bool,
}

/// A dimension as declared.
#[derive(Clone, Debug, PartialEq)]
pub enum DimSpec {
    /// `28`
    Lit(usize),
    /// `B`
    Sym(Str),
    /// `4 * d`: an expression of the model's parameters (a family's
    /// template; instantiation evaluates it).
    Expr(Expr),
}

impl DimSpec {
    /// The dimension it declares.
    pub fn dim(&self) -> Dim {
        match self {
            DimSpec::Lit(n) => Dim::Lit(*n),
            DimSpec::Sym(s) => Dim::sym(s),
            // Only templates hold expressions, and templates are instantiated
            // before they are built.
            DimSpec::Expr(e) => Dim::sym(&crate::family::expr::display(e)),
        }
    }
}

/// One layer application: `fc1: Linear(128)` fed by `inputs`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    /// The name the user chose, if any.
    pub name: Option<Str>,
    /// The layer as written: a built-in layer (`Linear`), a model of the
    /// same block (`Block`) or a path to a model elsewhere (`zoo::Block`).
    pub layer: Str,
    /// The layer as an expression of the model's parameters, when a
    /// parameter chooses it (`-> act`, `-> acts[i]`); `layer` is then
    /// [`LAYER_PARAM`](crate::family::LAYER_PARAM) and the expression.
    pub choice: Option<Expr>,
    /// Its arguments.
    pub args: List<ArgSpec>,
    /// What feeds it.
    pub inputs: List<ValueRef>,
    /// The value name it defines (`=> h`), if any.
    pub output: Option<Str>,
    /// The values it defines from a nested model's outputs, by output name
    /// (`=> { hidden: h, cell }`); empty for `=> name` or none.
    pub bindings: List<Binding>,
    /// How many times it is applied in sequence (`Block * 4`).
    pub repeat: usize,
    /// The repeat count as an expression of the model's parameters
    /// (`Block * layers`), in a family's template.
    pub repeat_expr: Option<Expr>,
    /// Whether each application's forward is recomputed in the backward
    /// pass instead of keeping its intermediate values (`checkpoint Block`):
    /// less memory for more compute.
    pub checkpoint: bool,
}

impl NodeSpec {
    /// The last segment of the layer's path: `Block` for `zoo::blocks::Block`.
    pub fn kind(&self) -> &str {
        let layer = match self.layer.strip_prefix(crate::family::LAYER_PARAM) {
            // `acts[i]` is named after the list.
            Some(choice) => choice.split('[').next().unwrap_or(choice),
            None => &self.layer,
        };
        layer.rsplit("::").next().unwrap_or(layer)
    }

    /// The call as written, `Linear(128)` or `Block * 2`, for summaries.
    pub fn call_text(&self) -> String {
        let mut text = self.kind_text();
        if !self.args.is_empty() {
            let args: Vec<String> = self
                .args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{n} = {}", a.value),
                    None => a.value.to_string(),
                })
                .collect();
            text = format!("{text}({})", args.join(", "));
        }
        if self.repeat != 1 || self.repeat_expr.is_some() {
            text = format!("{text} * {}", self.repeat);
        }
        if self.checkpoint {
            text = format!("checkpoint {text}");
        }
        text
    }

    /// Whether its applications are numbered in parameter paths
    /// (`blocks.0.weight`): when it repeats, or when its count varies with
    /// a family's instantiation.
    pub fn numbered(&self) -> bool {
        self.repeat > 1 || self.repeat_expr.is_some()
    }

    /// The layer as written: `Linear`, `zoo::Block`, or a layer parameter's name.
    fn kind_text(&self) -> String {
        self.layer
            .strip_prefix(crate::family::LAYER_PARAM)
            .unwrap_or(&self.layer)
            .to_string()
    }
}

/// `hidden: h` in `=> { hidden: h, cell }`: the value `h` is the nested
/// model's output `hidden`.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    /// The nested model's output.
    pub output: Str,
    /// The value it defines.
    pub value: Str,
}

/// A reference to a value from a node.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueRef {
    /// A named value: an input or a `=> name`.
    Named(Str),
    /// The output of the node at this source index (the previous pipeline stage).
    Node(usize),
    /// A number written as an operand: `0.5` in `Multiply(x, 0.5)`.
    Literal(Scalar),
    /// An operand that is an expression of the model's parameters
    /// (`Multiply(x, 1.0 / scale)`), in a family's template.
    Expr(Expr),
}

/// A number written in a model as an operand: a scalar (shape `[]`) that
/// takes the model's dtype when it runs (see the backend). Stored as the
/// bits of an `f64`, so that values referring to it compare and hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scalar(u64);

impl Scalar {
    /// The scalar `value` (a `const fn`, for the static spec).
    pub const fn new(value: f64) -> Scalar {
        Scalar(value.to_bits())
    }

    /// Its value.
    pub fn value(self) -> f64 {
        f64::from_bits(self.0)
    }
}

impl std::fmt::Debug for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scalar({})", self.value())
    }
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.value())
    }
}

/// The automatic name stem of a layer: `MaxPool2d` -> `max_pool2d`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let after_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let before_lower = i > 0
                && chars.get(i + 1).is_some_and(|n| n.is_lowercase())
                && chars[i - 1].is_uppercase();
            if after_lower || before_lower {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::ArgValue;
    use std::borrow::Cow;

    #[test]
    fn snake_case_splits_words_and_keeps_digits() {
        assert_eq!(snake_case("Linear"), "linear");
        assert_eq!(snake_case("MaxPool2d"), "max_pool2d");
        assert_eq!(snake_case("LogSoftmax"), "log_softmax");
        assert_eq!(snake_case("GRUCell"), "gru_cell");
    }

    #[test]
    fn kind_and_call_text() {
        let node = NodeSpec {
            name: None,
            layer: Cow::Borrowed("zoo::blocks::TransformerBlock"),
            choice: None,
            args: Cow::Borrowed(&[]),
            inputs: Cow::Borrowed(&[]),
            output: None,
            bindings: Cow::Borrowed(&[]),
            repeat: 2,
            repeat_expr: None,
            checkpoint: false,
        };
        assert_eq!(node.kind(), "TransformerBlock");
        assert_eq!(node.call_text(), "zoo::blocks::TransformerBlock * 2");
        let linear = NodeSpec {
            layer: Cow::Borrowed("Linear"),
            args: Cow::Owned(vec![
                ArgSpec {
                    name: None,
                    value: ArgValue::Int(8),
                },
                ArgSpec {
                    name: Some(Cow::Borrowed("bias")),
                    value: ArgValue::Bool(false),
                },
            ]),
            repeat: 1,
            ..node
        };
        assert_eq!(linear.kind(), "Linear");
        assert_eq!(linear.call_text(), "Linear(8, bias = false)");
        let recomputed = NodeSpec {
            checkpoint: true,
            ..linear
        };
        assert_eq!(recomputed.call_text(), "checkpoint Linear(8, bias = false)");
    }
}

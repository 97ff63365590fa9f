//! The model IR: what `model!` writes down ([`ModelSpec`]) and what both the
//! macro and the runtime build from it ([`Graph`]): every node's layer, inputs,
//! output shape and parameters.
//!
//! [`Graph::build`] (in `build/`, one file per pass) checks a spec; the
//! methods here run a built graph's rules again on concrete sizes.

mod build;
mod error;
mod spec;
mod summary;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use crate::dim::{Bindings, Dim};
use crate::layers::{Arity, CustomHandle, Init, Layer, Operand, ShapeError};
use crate::shape::Shape;

pub use build::{
    MAX_REPEAT, MAX_WEIGHTS, ModelLookup, Nested, NodeOutline, OutlineKind, node_names,
    repeat_out_of_range, size_out_of_range,
};
pub use error::{BuildError, ConcreteShapeError, InputShapeError, Site};
pub use spec::{
    Binding, DimSpec, InputSpec, LoopSpec, ModelSpec, NodeSpec, Scalar, ShareSpec, ValueRef,
    snake_case,
};

/// A value in a built graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueId {
    /// Model input `i`.
    Input(usize),
    /// The output of node `i` (execution order).
    Node(usize),
    /// Output `output` of node `node` (execution order), a nested model with
    /// several outputs.
    Part {
        /// The node.
        node: usize,
        /// The nested model's output index.
        output: usize,
    },
    /// A number written as an operand (shape `[]`).
    Literal(Scalar),
}

/// The shape of a [`ValueId::Literal`].
static SCALAR_SHAPE: Shape = Shape(Vec::new());

/// What a node computes.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A built-in layer.
    Layer(Layer),
    /// A nested model.
    Model(Arc<Graph>),
}

impl Op {
    /// Whether running it in training mode updates buffers (a `BatchNorm`'s
    /// running statistics), here or in a nested model: such an op cannot be
    /// recomputed in the backward pass, which would update them again.
    pub fn updates_buffers(&self) -> bool {
        match self {
            Op::Layer(l) => l.updates_buffers(),
            Op::Model(g) => g.nodes.iter().any(|n| n.op.updates_buffers()),
        }
    }

    /// Whether running it in training mode draws random numbers (dropout),
    /// here or in a nested model.
    pub fn draws_random_numbers(&self) -> bool {
        match self {
            Op::Layer(l) => l.draws_random_numbers(),
            Op::Model(g) => g.draws_random_numbers(),
        }
    }

    /// The name users write.
    pub fn name(&self) -> &str {
        match self {
            Op::Layer(l) => l.name(),
            Op::Model(g) => &g.name,
        }
    }

    fn arity(&self) -> Arity {
        match self {
            Op::Layer(l) => l.arity(),
            Op::Model(g) => Arity::Exactly(g.inputs.len()),
        }
    }

    /// The op with the symbols of its arguments replaced by their values.
    pub fn bind(&self, bindings: &Bindings) -> Op {
        match self {
            Op::Layer(l) => Op::Layer(l.bind(bindings)),
            Op::Model(g) => Op::Model(Arc::clone(g)),
        }
    }

    /// The output shape for these inputs (symbolic or concrete).
    pub fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        match self {
            Op::Layer(l) => l.infer(inputs),
            Op::Model(g) => g.apply(inputs),
        }
    }

    /// Every output's shape: a nested model's outputs in order.
    pub fn infer_all(&self, inputs: &[Operand<'_>]) -> Result<Vec<Shape>, ShapeError> {
        match self {
            Op::Layer(l) => l.infer(inputs).map(|s| vec![s]),
            Op::Model(g) => g.apply_all(inputs),
        }
    }
}

/// A layer application in a built graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Its name: the user's, or `<kind>_<n>`.
    pub name: String,
    /// What it computes.
    pub op: Op,
    /// Its inputs.
    pub inputs: Vec<ValueId>,
    /// The output shape (a nested model's first output).
    pub shape: Shape,
    /// Every output's shape, for a nested model whose outputs are bound by
    /// name (`=> { hidden, cell }`); empty otherwise.
    pub parts: Vec<Shape>,
    /// Applications in sequence.
    pub repeat: usize,
    /// The parameters it owns, as a range of [`Graph::weights`].
    pub weights: Range<usize>,
    /// Parameters of other nodes it uses as its own (`share`): its layer's
    /// parameter at this position (of one application) is this index of
    /// [`Graph::weights`]. Sorted by position.
    pub shared: Vec<(usize, usize)>,
    /// The call as written, `Linear(128)`, for summaries.
    pub call: String,
    /// Its index in the [`ModelSpec`].
    pub source: usize,
    /// Whether each application's forward is recomputed in the backward
    /// pass rather than its intermediate values kept (`checkpoint Block`).
    pub checkpoint: bool,
}

impl Node {
    /// The parameters application `rep` of this node computes with, in its
    /// layer's order: its own, with those it shares from other nodes put in
    /// their places. `all` is indexed like [`Graph::weights`].
    pub fn layer_weights<T: Clone>(&self, all: &[T], rep: usize) -> Vec<T> {
        let owned = &all[self.weights.clone()];
        let per_application = owned.len() / self.repeat.max(1);
        let mut own = owned[rep * per_application..(rep + 1) * per_application].iter();
        let mut shared = self.shared.iter().peekable();
        let mut out = Vec::with_capacity(per_application + self.shared.len());
        for position in 0.. {
            match shared.peek() {
                Some(&&(at, index)) if at == position => {
                    out.push(all[index].clone());
                    shared.next();
                }
                _ => match own.next() {
                    Some(w) => out.push(w.clone()),
                    None if shared.peek().is_none() => break,
                    None => {
                        // A position past the owned ones: the rest are shared.
                        if let Some(&(_, index)) = shared.next() {
                            out.push(all[index].clone());
                        }
                    }
                },
            }
        }
        out
    }
}

/// A parameter of a built graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Weight {
    /// Its dotted path, as mlx.nn names it: `fc1.weight`, `blocks.0.fc.bias`.
    pub path: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its initialisation.
    pub init: Init,
    /// A parameter the optimizer trains, or a buffer the layer updates in training mode.
    pub trainable: bool,
}

impl Weight {
    /// Number of scalars (saturating; a graph that checked has no weight
    /// too large to count).
    pub fn len(&self) -> usize {
        build::element_count(&self.shape).unwrap_or(usize::MAX)
    }

    /// Whether it holds no scalar.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A declared input of a built graph.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphInput {
    /// Its name.
    pub name: String,
    /// Its declared shape.
    pub shape: Shape,
    /// Whether gradients flow into it (`false` for a `static` input).
    pub differentiable: bool,
}

/// A returned value of a built graph.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphOutput {
    /// Its name.
    pub name: String,
    /// Where it comes from.
    pub value: ValueId,
    /// Its shape.
    pub shape: Shape,
}

/// A checked model: nodes in execution order with inferred shapes and parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// The model's name.
    pub name: String,
    /// Declared inputs.
    pub inputs: Vec<GraphInput>,
    /// Nodes in execution order.
    pub nodes: Vec<Node>,
    /// Returned values.
    pub outputs: Vec<GraphOutput>,
    /// Every parameter, in node order.
    pub weights: Vec<Weight>,
}

impl Graph {
    /// Whether running the graph in training mode draws random numbers: a
    /// layer whose rule says so, in it or in a nested model.
    pub fn draws_random_numbers(&self) -> bool {
        self.nodes.iter().any(|n| n.op.draws_random_numbers())
    }

    /// Applies this graph as a layer: binds its declared inputs to `inputs`
    /// and returns its (single) output shape in the caller's terms.
    pub fn apply(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        if self.outputs.len() != 1 {
            let names: Vec<String> = self.outputs.iter().map(|o| o.name.clone()).collect();
            return Err(ShapeError::new(format!(
                "model `{}` has {} outputs (`{}`); bind them by name at the end of the statement, as in `=> {{ {} }}`",
                self.name,
                self.outputs.len(),
                names.join("`, `"),
                names.join(", ")
            )));
        }
        Ok(self.apply_all(inputs)?.swap_remove(0))
    }

    /// Applies this graph as a layer and returns every output's shape in
    /// the caller's terms.
    pub fn apply_all(&self, inputs: &[Operand<'_>]) -> Result<Vec<Shape>, ShapeError> {
        let mut map: HashMap<Arc<str>, Dim> = HashMap::new();
        for (declared, actual) in self.inputs.iter().zip(inputs) {
            let fits = declared.shape.rank() == actual.shape.rank()
                && declared
                    .shape
                    .0
                    .iter()
                    .zip(&actual.shape.0)
                    .all(|(d, a)| match d {
                        Dim::Sym(s) => match map.get(s) {
                            Some(bound) => bound == a,
                            None => {
                                map.insert(s.clone(), a.clone());
                                true
                            }
                        },
                        _ => d == a,
                    });
            if !fits {
                return Err(ShapeError::new(format!(
                    "model `{}` expects input `{}` of shape {}, found {} with shape {}",
                    self.name, declared.name, declared.shape, actual.label, actual.shape
                )));
            }
        }
        Ok(self
            .outputs
            .iter()
            .map(|o| o.shape.substitute(&|s| map.get(s).cloned()))
            .collect())
    }

    /// Checks concrete input sizes against the declared shapes and returns the
    /// symbol bindings, or an error naming the input, the declaration, the
    /// bindings so far and what was given.
    // The error is built once per failed call, never on the hot path.
    #[allow(clippy::result_large_err)]
    pub fn bind_inputs(&self, sizes: &[&[usize]]) -> Result<Bindings, InputShapeError> {
        let mut bindings = Bindings::new();
        for (input, got) in self.inputs.iter().zip(sizes) {
            if let Err(e) = input.shape.bind(got, &mut bindings) {
                return Err(InputShapeError {
                    model: self.name.clone(),
                    input: input.name.clone(),
                    expected: input.shape.clone(),
                    found: got.to_vec(),
                    bindings: bindings.clone(),
                    reason: e,
                });
            }
        }
        Ok(bindings)
    }

    /// Runs every shape rule on concrete input sizes (the same rules the
    /// macro ran symbolically) and returns each node's output size.
    #[allow(clippy::result_large_err)]
    pub fn infer_concrete(
        &self,
        sizes: &[&[usize]],
    ) -> Result<Vec<Vec<usize>>, ConcreteShapeError> {
        let bindings = self.bind_inputs(sizes).map_err(ConcreteShapeError::Input)?;
        let input_shapes: Vec<Shape> = sizes.iter().map(|s| Shape::known(s)).collect();
        let mut node_shapes: Vec<Shape> = Vec::with_capacity(self.nodes.len());
        let mut part_shapes: Vec<Vec<Shape>> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let shapes: Vec<Shape> = node
                .inputs
                .iter()
                .map(|v| match *v {
                    ValueId::Input(i) => input_shapes[i].clone(),
                    ValueId::Node(i) => node_shapes[i].clone(),
                    ValueId::Part { node, output } => part_shapes[node][output].clone(),
                    ValueId::Literal(_) => SCALAR_SHAPE.clone(),
                })
                .collect();
            let labels: Vec<String> = node.inputs.iter().map(|v| self.label(*v)).collect();
            let operands: Vec<Operand<'_>> = shapes
                .iter()
                .zip(&labels)
                .map(|(s, l)| Operand { label: l, shape: s })
                .collect();
            let layer_error = |e: ShapeError| ConcreteShapeError::Layer {
                node: node.name.clone(),
                message: e.message,
            };
            // Symbols in the layer's own arguments (`Reshape([B, 6, 10])`)
            // take the values the inputs bound.
            let op = node.op.bind(&bindings);
            if !node.parts.is_empty() {
                let all = op.infer_all(&operands).map_err(layer_error)?;
                node_shapes.push(all[0].clone());
                part_shapes.push(all);
                continue;
            }
            part_shapes.push(Vec::new());
            let mut out = op.infer(&operands).map_err(layer_error)?;
            for _ in 1..node.repeat {
                let previous = out;
                out = op
                    .infer(&[Operand {
                        label: &labels[0],
                        shape: &previous,
                    }])
                    .map_err(layer_error)?;
            }
            node_shapes.push(out);
        }
        Ok(node_shapes
            .into_iter()
            .map(|s| s.as_known().unwrap_or_default())
            .collect())
    }

    /// Whether the node's one weight is the node itself
    /// ([`LAYER_ITSELF`](crate::layers::LAYER_ITSELF), a `buffer`): its path
    /// is the node's name and its typed field the array.
    pub fn weight_is_node(&self, node: &Node) -> bool {
        matches!(&self.weights[node.weights.clone()], [w] if w.path == node.name)
    }

    /// How errors name a value.
    pub fn label(&self, value: ValueId) -> String {
        match value {
            ValueId::Input(i) => format!("`{}`", self.inputs[i].name),
            ValueId::Node(i) => format!("the output of `{}`", self.nodes[i].name),
            ValueId::Part { node, output } => match &self.nodes[node].op {
                Op::Model(g) => format!(
                    "output `{}` of `{}`",
                    g.outputs[output].name, self.nodes[node].name
                ),
                Op::Layer(_) => format!("the output of `{}`", self.nodes[node].name),
            },
            ValueId::Literal(x) => format!("`{x}`"),
        }
    }

    /// The shape of a value.
    pub fn shape_of(&self, value: ValueId) -> &Shape {
        match value {
            ValueId::Input(i) => &self.inputs[i].shape,
            ValueId::Node(i) => &self.nodes[i].shape,
            ValueId::Part { node, output } => &self.nodes[node].parts[output],
            ValueId::Literal(_) => &SCALAR_SHAPE,
        }
    }

    /// Gives every layer that calls a Rust function (a custom op) its
    /// function, looked up by the path as written. Returns the paths that
    /// found none.
    pub fn attach_functions(
        &mut self,
        lookup: &dyn Fn(&str) -> Option<CustomHandle>,
    ) -> Vec<String> {
        let mut missing = Vec::new();
        for node in &mut self.nodes {
            if let Op::Layer(layer) = &mut node.op
                && let Some(function) = layer.function_mut()
            {
                function.handle = lookup(&function.path);
                if function.handle.is_none() {
                    missing.push(function.path.to_string());
                }
            }
        }
        missing
    }

    /// Total number of scalar parameters (saturating: a graph that checked
    /// holds fewer than `usize::MAX`).
    pub fn parameter_count(&self) -> usize {
        self.weights
            .iter()
            .fold(0usize, |acc, w| acc.saturating_add(w.len()))
    }
}

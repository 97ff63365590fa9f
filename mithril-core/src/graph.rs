//! The model IR: what `model!` writes down ([`ModelSpec`]) and what both the
//! macro and the runtime build from it ([`Graph`]): every node's layer, inputs,
//! output shape and parameters.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::args::{ArgError, ArgSite, ArgSpec, List, Str};
use crate::dim::{Bindings, Dim};
use crate::layers::{Arity, CATALOGUE, Init, Layer, Operand, ShapeError};
use crate::shape::{BindError, Shape, display_bindings, display_sizes};

/// A model as written: the macro's parse, and static data in generated code.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    /// The model's name.
    pub name: Str,
    /// Declared inputs, in order.
    pub inputs: List<InputSpec>,
    /// Layer applications, in source order.
    pub nodes: List<NodeSpec>,
    /// Values returned, in order.
    pub outputs: List<Str>,
}

/// `input image: [B, 28, 28, 1]`
#[derive(Clone, Debug, PartialEq)]
pub struct InputSpec {
    /// The value's name.
    pub name: Str,
    /// Its declared dims.
    pub dims: List<DimSpec>,
}

/// A dimension as declared.
#[derive(Clone, Debug, PartialEq)]
pub enum DimSpec {
    /// `28`
    Lit(usize),
    /// `B`
    Sym(Str),
}

/// One layer application: `fc1: Linear(128)` fed by `inputs`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    /// The name the user chose, if any.
    pub name: Option<Str>,
    /// The layer (or nested model) name as written.
    pub layer: Str,
    /// Its arguments.
    pub args: List<ArgSpec>,
    /// What feeds it.
    pub inputs: List<ValueRef>,
    /// The value name it defines (`=> h`), if any.
    pub output: Option<Str>,
    /// How many times it is applied in sequence (`Block * 4`).
    pub repeat: usize,
}

/// A reference to a value from a node.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueRef {
    /// A named value: an input or a `=> name`.
    Named(Str),
    /// The output of the node at this source index (the previous pipeline stage).
    Node(usize),
}

/// Where in a [`ModelSpec`] a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    /// The model as a whole.
    Model,
    /// Input declaration `i`.
    Input(usize),
    /// The layer call of node `i`.
    Node(usize),
    /// Argument `arg` of node `node`.
    NodeArg {
        /// Node.
        node: usize,
        /// Argument index.
        arg: usize,
    },
    /// Input `input` of node `node`.
    NodeInput {
        /// Node.
        node: usize,
        /// Input index.
        input: usize,
    },
    /// The `=> name` of node `i`.
    NodeOutput(usize),
    /// The repeat count of node `i`.
    NodeRepeat(usize),
    /// Output `i` of the `output` list.
    Output(usize),
}

/// A problem found while building a [`Graph`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    /// Where.
    pub site: Site,
    /// What, in lowercase prose.
    pub message: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A value in a built graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueId {
    /// Model input `i`.
    Input(usize),
    /// The output of node `i` (execution order).
    Node(usize),
}

/// What a node computes.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A built-in layer.
    Layer(Layer),
    /// A nested model.
    Model(Arc<Graph>),
}

impl Op {
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
    /// The output shape.
    pub shape: Shape,
    /// Applications in sequence.
    pub repeat: usize,
    /// Its parameters, as a range of [`Graph::weights`].
    pub weights: Range<usize>,
    /// The call as written, `Linear(128)`, for summaries.
    pub call: String,
    /// Its index in the [`ModelSpec`].
    pub source: usize,
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
    /// Number of scalars.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
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

/// Finds nested models by name while building.
pub type ModelLookup<'a> = &'a dyn Fn(&str) -> Option<Arc<Graph>>;

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

fn dim_of(spec: &DimSpec) -> Dim {
    match spec {
        DimSpec::Lit(n) => Dim::Lit(*n),
        DimSpec::Sym(s) => Dim::sym(s),
    }
}

fn call_text(spec: &NodeSpec) -> String {
    let mut text = spec.layer.to_string();
    if !spec.args.is_empty() {
        let args: Vec<String> = spec
            .args
            .iter()
            .map(|a| match &a.name {
                Some(n) => format!("{n} = {}", a.value),
                None => a.value.to_string(),
            })
            .collect();
        text = format!("{text}({})", args.join(", "));
    }
    if spec.repeat != 1 {
        text = format!("{text} * {}", spec.repeat);
    }
    text
}

impl Graph {
    /// Checks a model and infers every shape. Reports every independent problem.
    pub fn build(spec: &ModelSpec, models: ModelLookup<'_>) -> Result<Graph, Vec<BuildError>> {
        Builder {
            spec,
            models,
            errors: Vec::new(),
        }
        .build()
    }

    /// Applies this graph as a layer: binds its declared inputs to `inputs`
    /// and returns its (single) output shape in the caller's terms.
    pub fn apply(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
        let [output] = &self.outputs[..] else {
            return Err(ShapeError::new(format!(
                "model `{}` has {} outputs; only single-output models can be used as layers",
                self.name,
                self.outputs.len()
            )));
        };
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
        Ok(output.shape.substitute(&|s| map.get(s).cloned()))
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
        for node in &self.nodes {
            let shapes: Vec<&Shape> = node
                .inputs
                .iter()
                .map(|v| match *v {
                    ValueId::Input(i) => &input_shapes[i],
                    ValueId::Node(i) => &node_shapes[i],
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

    /// How errors name a value.
    pub fn label(&self, value: ValueId) -> String {
        match value {
            ValueId::Input(i) => format!("`{}`", self.inputs[i].name),
            ValueId::Node(i) => format!("the output of `{}`", self.nodes[i].name),
        }
    }

    /// The shape of a value.
    pub fn shape_of(&self, value: ValueId) -> &Shape {
        match value {
            ValueId::Input(i) => &self.inputs[i].shape,
            ValueId::Node(i) => &self.nodes[i].shape,
        }
    }

    /// Gives every `Lambda` node its function, looked up by the path as written.
    /// Returns the paths that found none.
    pub fn attach_custom(
        &mut self,
        lookup: &dyn Fn(&str) -> Option<crate::layers::CustomHandle>,
    ) -> Vec<String> {
        let mut missing = Vec::new();
        for node in &mut self.nodes {
            if let Op::Layer(Layer::Lambda(lambda)) = &mut node.op {
                lambda.handle = lookup(&lambda.function);
                if lambda.handle.is_none() {
                    missing.push(lambda.function.to_string());
                }
            }
        }
        missing
    }

    /// Total number of scalar parameters.
    pub fn parameter_count(&self) -> usize {
        self.weights.iter().map(Weight::len).sum()
    }

    /// A table of every node: name, layer, output shape, parameter count, and totals.
    pub fn summary(&self) -> String {
        let mut rows: Vec<[String; 4]> = vec![[
            "layer".into(),
            "kind".into(),
            "output shape".into(),
            "params".into(),
        ]];
        for input in &self.inputs {
            rows.push([
                input.name.clone(),
                "input".into(),
                input.shape.to_string(),
                "0".into(),
            ]);
        }
        for node in &self.nodes {
            let count: usize = self.weights[node.weights.clone()]
                .iter()
                .map(Weight::len)
                .sum();
            rows.push([
                node.name.clone(),
                node.call.clone(),
                node.shape.to_string(),
                count.to_string(),
            ]);
        }
        let widths: Vec<usize> = (0..4)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let rule: String = widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-");
        let mut out = format!("model {}\n", self.name);
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (cell, w))| {
                    if c == 3 {
                        format!("{cell:>w$}")
                    } else {
                        format!("{cell:<w$}")
                    }
                })
                .collect();
            out.push_str(cells.join(" | ").trim_end());
            out.push('\n');
            if i == 0 {
                out.push_str(&rule);
                out.push('\n');
            }
        }
        out.push_str(&rule);
        out.push('\n');
        let outputs: Vec<String> = self
            .outputs
            .iter()
            .map(|o| format!("{}: {}", o.name, o.shape))
            .collect();
        out.push_str(&format!("outputs: {}\n", outputs.join(", ")));
        out.push_str(&format!(
            "parameters: {} in {} arrays\n",
            self.parameter_count(),
            self.weights.len()
        ));
        out
    }
}

/// Concrete inputs that do not fit the declared shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputShapeError {
    /// The model.
    pub model: String,
    /// The input.
    pub input: String,
    /// Its declared shape.
    pub expected: Shape,
    /// What was given.
    pub found: Vec<usize>,
    /// Symbols bound by earlier inputs.
    pub bindings: Bindings,
    /// Why.
    pub reason: BindError,
}

impl fmt::Display for InputShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "input `{}`: expected {}, got {}",
            self.input,
            self.expected,
            display_sizes(&self.found)
        )?;
        match &self.reason {
            BindError::Rank => write!(
                f,
                " ({} axes, not {})",
                self.found.len(),
                self.expected.rank()
            ),
            BindError::Size { axis } => write!(f, " (axis {axis})"),
            BindError::Symbol {
                axis,
                symbol,
                bound,
            } => {
                write!(
                    f,
                    " (axis {axis}: `{symbol}` is already {bound} from an earlier input)"
                )
            }
        }?;
        if !self.bindings.is_empty() {
            write!(f, " with {}", display_bindings(&self.bindings))?;
        }
        Ok(())
    }
}

impl std::error::Error for InputShapeError {}

/// Concrete shapes that a layer rejects at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConcreteShapeError {
    /// An input does not fit its declaration.
    Input(InputShapeError),
    /// A layer's rule rejects the concrete sizes.
    Layer {
        /// The node.
        node: String,
        /// The rule's message.
        message: String,
    },
}

impl fmt::Display for ConcreteShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConcreteShapeError::Input(e) => e.fmt(f),
            ConcreteShapeError::Layer { node, message } => write!(f, "layer `{node}`: {message}"),
        }
    }
}

impl std::error::Error for ConcreteShapeError {}

struct Builder<'a> {
    spec: &'a ModelSpec,
    models: ModelLookup<'a>,
    errors: Vec<BuildError>,
}

/// A value during building: where it comes from, or unknown after an error.
#[derive(Clone, Copy)]
enum Slot {
    Input(usize),
    Source(usize),
}

impl Builder<'_> {
    fn error(&mut self, site: Site, message: impl Into<String>) {
        self.errors.push(BuildError {
            site,
            message: message.into(),
        });
    }

    fn build(mut self) -> Result<Graph, Vec<BuildError>> {
        let spec = self.spec;
        // Named values: inputs and `=> name` definitions.
        let mut named: BTreeMap<&str, Slot> = BTreeMap::new();
        let mut inputs = Vec::new();
        for (i, input) in spec.inputs.iter().enumerate() {
            if named.insert(&input.name, Slot::Input(i)).is_some() {
                self.error(
                    Site::Input(i),
                    format!("input `{}` is declared twice", input.name),
                );
            }
            inputs.push(GraphInput {
                name: input.name.to_string(),
                shape: Shape(input.dims.iter().map(dim_of).collect()),
            });
        }
        for (i, node) in spec.nodes.iter().enumerate() {
            if let Some(out) = &node.output {
                match named.get(&**out) {
                    Some(Slot::Input(_)) => self.error(
                        Site::NodeOutput(i),
                        format!("`{out}` is already a model input; choose another name"),
                    ),
                    Some(Slot::Source(_)) => self.error(
                        Site::NodeOutput(i),
                        format!("value `{out}` is defined twice"),
                    ),
                    None => {
                        named.insert(out, Slot::Source(i));
                    }
                }
            }
        }

        // Node names: the user's, or `<kind>_<n>` counted per kind in source order.
        let mut names: Vec<String> = Vec::with_capacity(spec.nodes.len());
        let mut counters: HashMap<String, usize> = HashMap::new();
        let user_names: Vec<&str> = spec
            .nodes
            .iter()
            .filter_map(|n| n.name.as_deref())
            .collect();
        for (i, node) in spec.nodes.iter().enumerate() {
            let name = match &node.name {
                Some(n) => {
                    if names.iter().any(|m| m == &**n) {
                        self.error(Site::Node(i), format!("layer name `{n}` is used twice"));
                    }
                    n.to_string()
                }
                None => {
                    let stem = snake_case(&node.layer);
                    loop {
                        let k = counters.entry(stem.clone()).or_insert(0);
                        let candidate = format!("{stem}_{k}");
                        *k += 1;
                        if !user_names.contains(&candidate.as_str()) {
                            break candidate;
                        }
                    }
                }
            };
            names.push(name);
        }

        // Edges: resolve each node's inputs to slots.
        let mut resolved: Vec<Vec<Option<Slot>>> = Vec::with_capacity(spec.nodes.len());
        let mut used_names: Vec<&str> = Vec::new();
        for (i, node) in spec.nodes.iter().enumerate() {
            let mut slots = Vec::new();
            for (k, input) in node.inputs.iter().enumerate() {
                slots.push(match input {
                    ValueRef::Node(j) => Some(Slot::Source(*j)),
                    ValueRef::Named(n) => {
                        used_names.push(n);
                        match named.get(&**n) {
                            Some(slot) => Some(*slot),
                            None => {
                                let known: Vec<&str> = named.keys().copied().collect();
                                let suggestion = crate::closest(n, &known);
                                // The suggested value is probably the one meant:
                                // do not also report it as unused.
                                used_names.extend(suggestion);
                                let hint = suggestion
                                    .map(|c| format!("; did you mean `{c}`?"))
                                    .unwrap_or_default();
                                self.error(
                                    Site::NodeInput { node: i, input: k },
                                    format!("unknown value `{n}`{hint}"),
                                );
                                None
                            }
                        }
                    }
                });
            }
            resolved.push(slots);
        }
        let mut output_slots = Vec::new();
        for (i, out) in spec.outputs.iter().enumerate() {
            used_names.push(out);
            if spec.outputs[..i].contains(out) {
                self.error(Site::Output(i), format!("output `{out}` is listed twice"));
            }
            match named.get(&**out) {
                Some(slot) => output_slots.push(Some(*slot)),
                None => {
                    let known: Vec<&str> = named.keys().copied().collect();
                    let suggestion = crate::closest(out, &known);
                    used_names.extend(suggestion);
                    let hint = suggestion
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    self.error(
                        Site::Output(i),
                        format!("unknown value `{out}` in `output`{hint}"),
                    );
                    output_slots.push(None);
                }
            }
        }
        if spec.outputs.is_empty() {
            self.error(
                Site::Model,
                format!("model `{}` has no `output` statement", spec.name),
            );
        }
        for (i, input) in spec.inputs.iter().enumerate() {
            if !used_names.contains(&&*input.name) {
                self.error(
                    Site::Input(i),
                    format!("input `{}` is never used", input.name),
                );
            }
        }
        // Without an `output` statement every final value looks unused; the
        // missing statement is the one error to report then.
        for (i, node) in spec.nodes.iter().enumerate() {
            if spec.outputs.is_empty() {
                break;
            }
            if let Some(out) = &node.output
                && !used_names.contains(&&**out)
            {
                self.error(
                    Site::NodeOutput(i),
                    format!(
                        "value `{out}` is never used; feed it to a layer or list it in `output`"
                    ),
                );
            }
        }

        // Execution order (a topological sort in source order); a cycle is an error.
        let order = self.topological_order(&resolved, &names);

        // Shape inference in execution order.
        let mut nodes: Vec<Node> = Vec::new();
        let mut position: HashMap<usize, usize> = HashMap::new();
        let mut weights = Vec::new();
        for &i in &order {
            let node_spec = &spec.nodes[i];
            let Some(op) = self.resolve_op(i, node_spec) else {
                continue;
            };
            if !op.arity().accepts(node_spec.inputs.len()) {
                let message = if node_spec.inputs.len() == 1 {
                    format!(
                        "`{layer}` takes {}, found 1; give them at the start of a statement, as in `{layer}(a, b) => c;` (a pipeline stage gets only the previous value)",
                        op.arity(),
                        layer = node_spec.layer,
                    )
                } else {
                    format!(
                        "`{}` takes {}, found {}",
                        node_spec.layer,
                        op.arity(),
                        node_spec.inputs.len()
                    )
                };
                self.error(Site::Node(i), message);
                continue;
            }
            // Inputs that failed earlier make this node unknown, silently.
            let Some(ids) = resolved[i]
                .iter()
                .map(|slot| match slot {
                    Some(Slot::Input(k)) => Some(ValueId::Input(*k)),
                    Some(Slot::Source(j)) => position.get(j).map(|&p| ValueId::Node(p)),
                    None => None,
                })
                .collect::<Option<Vec<ValueId>>>()
            else {
                continue;
            };
            let graph_view = GraphView {
                inputs: &inputs,
                nodes: &nodes,
            };
            let labels: Vec<String> = ids.iter().map(|v| graph_view.label(*v, spec)).collect();
            let shapes: Vec<Shape> = ids.iter().map(|v| graph_view.shape(*v).clone()).collect();
            let operands: Vec<Operand<'_>> = shapes
                .iter()
                .zip(&labels)
                .map(|(s, l)| Operand { label: l, shape: s })
                .collect();
            let shape = match op.infer(&operands) {
                Ok(s) => s,
                Err(e) => {
                    self.error(Site::Node(i), e.message);
                    continue;
                }
            };
            if node_spec.repeat == 0 {
                self.error(Site::NodeRepeat(i), "a layer cannot be repeated 0 times");
                continue;
            }
            if node_spec.repeat > 1 {
                if operands.len() != 1 {
                    self.error(
                        Site::NodeRepeat(i),
                        format!(
                            "only single-input layers can be repeated; `{}` takes {}",
                            node_spec.layer,
                            op.arity()
                        ),
                    );
                    continue;
                }
                if shape != shapes[0] {
                    self.error(
                        Site::NodeRepeat(i),
                        format!(
                            "`{}` is repeated, so its output must keep its input's shape: it maps {} to {}",
                            node_spec.layer, shapes[0], shape
                        ),
                    );
                    continue;
                }
            }
            let start = weights.len();
            let per_application = self.weights_of(&op, &shapes);
            for rep in 0..node_spec.repeat {
                for (path, w_shape, init, trainable) in &per_application {
                    let prefix = if node_spec.repeat > 1 {
                        format!("{}.{rep}", names[i])
                    } else {
                        names[i].clone()
                    };
                    weights.push(Weight {
                        path: format!("{prefix}.{path}"),
                        shape: w_shape.clone(),
                        init: *init,
                        trainable: *trainable,
                    });
                }
            }
            position.insert(i, nodes.len());
            nodes.push(Node {
                name: names[i].clone(),
                op,
                inputs: ids,
                shape,
                repeat: node_spec.repeat,
                weights: start..weights.len(),
                call: call_text(node_spec),
                source: i,
            });
        }

        let mut outputs = Vec::new();
        for (out, slot) in spec.outputs.iter().zip(output_slots) {
            let value = match slot {
                Some(Slot::Input(k)) => Some(ValueId::Input(k)),
                Some(Slot::Source(j)) => position.get(&j).map(|&p| ValueId::Node(p)),
                None => None,
            };
            if let Some(value) = value {
                let shape = match value {
                    ValueId::Input(k) => inputs[k].shape.clone(),
                    ValueId::Node(p) => nodes[p].shape.clone(),
                };
                outputs.push(GraphOutput {
                    name: out.to_string(),
                    value,
                    shape,
                });
            }
        }

        if self.errors.is_empty() {
            Ok(Graph {
                name: spec.name.to_string(),
                inputs,
                nodes,
                outputs,
                weights,
            })
        } else {
            Err(self.errors)
        }
    }

    fn weights_of(&self, op: &Op, shapes: &[Shape]) -> Vec<(String, Vec<usize>, Init, bool)> {
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

    fn resolve_op(&mut self, i: usize, node: &NodeSpec) -> Option<Op> {
        if let Some(built) = Layer::build(&node.layer, &node.args) {
            return match built {
                Ok(layer) => Some(Op::Layer(layer)),
                Err(errors) => {
                    for ArgError { site, message } in errors {
                        let site = match site {
                            ArgSite::Call => Site::Node(i),
                            ArgSite::Arg(arg) => Site::NodeArg { node: i, arg },
                        };
                        self.error(site, message);
                    }
                    None
                }
            };
        }
        if let Some(graph) = (self.models)(&node.layer) {
            if !node.args.is_empty() {
                self.error(
                    Site::NodeArg { node: i, arg: 0 },
                    format!(
                        "nested model `{}` takes no arguments; its inputs go in the pipeline",
                        node.layer
                    ),
                );
                return None;
            }
            return Some(Op::Model(graph));
        }
        let names: Vec<&str> = CATALOGUE.iter().map(|l| l.name).collect();
        let hint = crate::closest(&node.layer, &names)
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        self.error(
            Site::Node(i),
            format!("unknown layer `{}`{hint}", node.layer),
        );
        None
    }

    fn topological_order(
        &mut self,
        resolved: &[Vec<Option<Slot>>],
        names: &[String],
    ) -> Vec<usize> {
        let n = resolved.len();
        let deps: Vec<Vec<usize>> = resolved
            .iter()
            .map(|slots| {
                slots
                    .iter()
                    .filter_map(|s| {
                        if let Some(Slot::Source(j)) = s {
                            Some(*j)
                        } else {
                            None
                        }
                    })
                    .collect()
            })
            .collect();
        // 0 = unvisited, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; n];
        let mut order = Vec::with_capacity(n);
        let mut reported = false;
        for root in 0..n {
            if state[root] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            state[root] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if let Some(&dep) = deps[node].get(*next) {
                    *next += 1;
                    match state[dep] {
                        0 => {
                            state[dep] = 1;
                            stack.push((dep, 0));
                        }
                        1 if !reported => {
                            reported = true;
                            let at = stack.iter().position(|(m, _)| *m == dep).unwrap_or(0);
                            // The stack runs against the data flow (each node
                            // waits for the next); list it in flow order.
                            let mut cycle: Vec<String> = stack[at..]
                                .iter()
                                .rev()
                                .map(|(m, _)| match &self.spec.nodes[*m].output {
                                    Some(v) => format!("`{v}`"),
                                    None => format!("`{}`", names[*m]),
                                })
                                .collect();
                            cycle.push(cycle[0].clone());
                            self.error(
                                Site::Node(node),
                                format!(
                                    "values feed into themselves in a cycle: {}",
                                    cycle.join(" -> ")
                                ),
                            );
                        }
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    order.push(node);
                    stack.pop();
                }
            }
        }
        order
    }
}

struct GraphView<'a> {
    inputs: &'a [GraphInput],
    nodes: &'a [Node],
}

impl GraphView<'_> {
    fn shape(&self, v: ValueId) -> &Shape {
        match v {
            ValueId::Input(i) => &self.inputs[i].shape,
            ValueId::Node(i) => &self.nodes[i].shape,
        }
    }

    fn label(&self, v: ValueId, spec: &ModelSpec) -> String {
        match v {
            ValueId::Input(i) => format!("`{}`", self.inputs[i].name),
            ValueId::Node(i) => match &spec.nodes[self.nodes[i].source].output {
                Some(name) => format!("`{name}`"),
                None => format!("the output of `{}`", self.nodes[i].name),
            },
        }
    }
}

//! Running graphs: the interpreter that lowers each node, parameter
//! initialisation, and the eager `forward`.

use mithril_core::graph::{ConcreteShapeError, Graph, Op, ValueId};
use mithril_core::layers::Init;
use mlx_rs::error::Exception;
use mlx_rs::{Array, Dtype, ops, random};

use crate::backend::MlxBackend;
use crate::decode::CacheSlots;
use crate::error::{Error, Result, mlx_message, raise};
use crate::lower::{LowerCtx, RunOptions, lower};
use crate::model::{Family, Model, Params, Values};
use crate::recompute;
use std::sync::Arc;

/// Runs `graph` on `inputs` with its flat `weights`; returns its outputs.
///
/// This is what compiled closures trace: it reads nothing but its arguments.
/// With `options.training`, use [`run_graph_training`] instead when the model
/// has dropout (it needs a key) or batch statistics (they update buffers).
pub fn run_graph(
    graph: &Graph,
    weights: &[Array],
    inputs: &[Array],
    options: &RunOptions,
) -> Result<Vec<Array>, Exception> {
    let (weights, inputs) = (
        in_compute_dtype(weights, options)?,
        in_compute_dtype(inputs, options)?,
    );
    let mut ctx = LowerCtx::new(*options, None);
    run(graph, &weights, &inputs, &mut ctx, 0, None)
}

/// Runs `graph` for a [`Decoder`](crate::decode::Decoder): causal attention
/// reads and extends `cache`; returns the outputs and the extended caches.
/// Like [`run_graph`], it reads nothing but its arguments.
pub(crate) fn run_graph_decoding(
    graph: &Graph,
    weights: &[Array],
    inputs: &[Array],
    options: &RunOptions,
    cache: CacheSlots,
) -> Result<(Vec<Array>, Vec<Array>), Exception> {
    let (weights, inputs) = (
        in_compute_dtype(weights, options)?,
        in_compute_dtype(inputs, options)?,
    );
    let mut ctx = LowerCtx::decoding(*options, cache);
    let outputs = run(graph, &weights, &inputs, &mut ctx, 0, None)?;
    let made = ctx
        .cache
        .take()
        .map(CacheSlots::into_made)
        .unwrap_or_default();
    Ok((outputs, made))
}

/// The arrays cast to the options' compute dtype, where one is set and the
/// array is floating point.
pub(crate) fn in_compute_dtype(
    arrays: &[Array],
    options: &RunOptions,
) -> Result<Vec<Array>, Exception> {
    arrays
        .iter()
        .map(|a| match options.compute {
            // f64 is left alone: a deliberate high-precision run (MLX has it
            // on the CPU only), such as finite-difference checks.
            Some(dtype)
                if a.dtype() != dtype && a.dtype().is_float() && a.dtype() != Dtype::Float64 =>
            {
                a.as_dtype(dtype)
            }
            _ => Ok(a.clone()),
        })
        .collect()
}

/// New values of buffers, by index into a graph's weights.
pub type BufferUpdates = Vec<(usize, Array)>;

/// Runs `graph` in training mode with a random `key` (for dropout); returns
/// the outputs and the new values of the buffers the layers updated (batch
/// statistics), as indices into `weights`.
pub fn run_graph_training(
    graph: &Graph,
    weights: &[Array],
    inputs: &[Array],
    options: &RunOptions,
    key: &Array,
) -> Result<(Vec<Array>, BufferUpdates), Exception> {
    let options = RunOptions {
        training: true,
        ..*options
    };
    let cast_weights = in_compute_dtype(weights, &options)?;
    let inputs = in_compute_dtype(inputs, &options)?;
    let mut ctx = LowerCtx::new(options, Some(key.clone()));
    let outputs = run(graph, &cast_weights, &inputs, &mut ctx, 0, None)?;
    // Buffers keep their own dtype (master weights stay wide).
    let updates = ctx
        .updates
        .into_iter()
        .map(|(i, a)| Ok((i, a.as_dtype(weights[i].dtype())?)))
        .collect::<Result<_, Exception>>()?;
    Ok((outputs, updates))
}

/// Values in the order the interpreter made them, each with a description:
/// `the output of `block.fc1` (Linear(16))`, with `[i]` for the i-th of
/// repeated applications; what [`first_non_finite`] looks through.
type Trace = Vec<(String, Array)>;

pub(crate) fn run(
    graph: &Graph,
    weights: &[Array],
    inputs: &[Array],
    ctx: &mut LowerCtx,
    weight_offset: usize,
    mut trace: Option<(&str, &mut Trace)>,
) -> Result<Vec<Array>, Exception> {
    // Bind the declared symbols (`B`, `T`) to the actual sizes, so every
    // node's symbolic shape evaluates to a concrete one.
    let sizes: Vec<Vec<usize>> = inputs
        .iter()
        .map(|a| a.shape().iter().map(|&d| d as usize).collect())
        .collect();
    let sizes: Vec<&[usize]> = sizes.iter().map(Vec::as_slice).collect();
    let bindings = graph
        .bind_inputs(&sizes)
        .map_err(|e| raise(ConcreteShapeError::Input(e).into()))?;
    // `static` inputs are data: no gradient flows into them.
    let inputs: Vec<Array> = graph
        .inputs
        .iter()
        .zip(inputs)
        .map(|(declared, a)| match declared.differentiable {
            true => Ok(a.clone()),
            false => mlx_rs::stop_gradient(a),
        })
        .collect::<Result<_, Exception>>()?;
    let mut values: Vec<Array> = Vec::with_capacity(graph.nodes.len());
    // Every output of a nested model whose outputs are bound by name.
    let mut parts: Vec<Vec<Array>> = Vec::with_capacity(graph.nodes.len());
    // Nodes marked `checkpoint` run inside MLX's checkpoint, except while
    // decoding (no backward pass) or tracing values for diagnosis.
    let recompute = ctx.cache.is_none() && trace.is_none();
    for node in &graph.nodes {
        let recomputed = (recompute && node.checkpoint).then(|| Arc::new(node.clone()));
        let array = |v: &ValueId| match *v {
            ValueId::Input(i) => Some(&inputs[i]),
            ValueId::Node(i) => Some(&values[i]),
            ValueId::Part { node, output } => Some(&parts[node][output]),
            ValueId::Literal(_) => None,
        };
        let literals = literal_operands(node, &array, &ctx.options)?;
        let args: Vec<&Array> = node
            .inputs
            .iter()
            .zip(&literals)
            .filter_map(|(v, literal)| array(v).or(literal.as_ref()))
            .collect();
        let node_weights = &weights[node.weights.clone()];
        let per_application = node_weights.len() / node.repeat;
        let out_shape: Option<Vec<i32>> = node
            .shape
            .evaluate(&bindings)
            .map(|d| d.iter().map(|&n| n as i32).collect());
        let mut out: Option<Array> = None;
        let mut all: Vec<Array> = Vec::new();
        for rep in 0..node.repeat {
            let first = rep * per_application;
            // A layer that shares parameters (applied once) gets them in place.
            let gathered;
            let w = match node.shared.is_empty() {
                true => &node_weights[first..first + per_application],
                false => {
                    gathered = node.layer_weights(weights, rep);
                    &gathered[..]
                }
            };
            let current: Vec<&Array> = match &out {
                Some(prev) => vec![prev],
                None => args.clone(),
            };
            let offset = weight_offset + node.weights.start + first;
            let y = match (&node.op, &recomputed) {
                (op, Some(node)) => {
                    let shape = match (op, &out_shape) {
                        (Op::Model(_), _) => Vec::new(),
                        (Op::Layer(_), Some(s)) => s.clone(),
                        (Op::Layer(_), None) => concrete_shape(node, &current, &bindings)?,
                    };
                    let mut outputs =
                        recompute::application(node, &current, w, shape, offset, ctx)?;
                    let first = outputs.remove(0);
                    if !node.parts.is_empty() {
                        all = std::iter::once(first.clone()).chain(outputs).collect();
                    }
                    first
                }
                (Op::Layer(layer), None) => {
                    let shape = match &out_shape {
                        Some(s) => s.clone(),
                        None => concrete_shape(node, &current, &bindings)?,
                    };
                    ctx.weight_offset = offset;
                    lower(layer, &current, w, &shape, ctx).map_err(|e| in_layer(node, e))?
                }
                (Op::Model(sub), None) => {
                    let sub_inputs: Vec<Array> = current.iter().map(|a| (*a).clone()).collect();
                    let prefix = trace
                        .as_ref()
                        .map(|(p, _)| application(p, node, rep) + ".")
                        .unwrap_or_default();
                    let sub_trace = trace.as_mut().map(|(_, t)| (prefix.as_str(), &mut **t));
                    let mut outputs = run(sub, w, &sub_inputs, ctx, offset, sub_trace)?;
                    let first = outputs.remove(0);
                    if !node.parts.is_empty() {
                        all = std::iter::once(first.clone()).chain(outputs).collect();
                    }
                    first
                }
            };
            if let Some((prefix, trace)) = trace.as_mut() {
                let name = format!(
                    "the output of `{}` ({})",
                    application(prefix, node, rep),
                    node.call
                );
                trace.push((name, y.clone()));
            }
            out = Some(y);
        }
        values.push(out.ok_or_else(|| raise(Error::Internal("a layer was applied 0 times")))?);
        parts.push(all);
    }
    Ok(graph
        .outputs
        .iter()
        .map(|o| match o.value {
            ValueId::Input(i) => inputs[i].clone(),
            ValueId::Node(i) => values[i].clone(),
            ValueId::Part { node, output } => parts[node][output].clone(),
            // `output` lists named values only.
            ValueId::Literal(x) => Array::from_f64(x.value()),
        })
        .collect())
}

/// The arrays of a node's literal operands (`None` for its other operands):
/// each a scalar of the dtype of the node's first floating-point operand,
/// as MLX types a Python number against an array, else of the model's
/// dtype (the backend's compute dtype, f32 by default).
fn literal_operands<'a>(
    node: &mithril_core::graph::Node,
    array: &dyn Fn(&ValueId) -> Option<&'a Array>,
    options: &RunOptions,
) -> Result<Vec<Option<Array>>, Exception> {
    let like = node
        .inputs
        .iter()
        .filter_map(array)
        .map(Array::dtype)
        .find(|d| d.is_float())
        .or(options.compute)
        .unwrap_or(Dtype::Float32);
    node.inputs
        .iter()
        .map(|v| match v {
            ValueId::Literal(x) => Some(Array::from_f64(x.value()).as_dtype(like)).transpose(),
            _ => Ok(None),
        })
        .collect()
}

/// `prefix` + the node's name, with `[rep]` where it is applied repeatedly.
fn application(prefix: &str, node: &mithril_core::graph::Node, rep: usize) -> String {
    match node.repeat {
        1 => format!("{prefix}{}", node.name),
        _ => format!("{prefix}{}[{rep}]", node.name),
    }
}

/// Runs `graph` in training mode as [`run_graph_training`] does, layer by
/// layer, and names the first value that is not finite (NaN or infinite):
/// a parameter, an input, or a layer's output in execution order. `None` when all are
/// finite. For diagnosis only: it evaluates every intermediate value.
pub(crate) fn first_non_finite(
    graph: &Graph,
    weights: &[Array],
    inputs: &[Array],
    options: &RunOptions,
    key: &Array,
) -> Result<Option<String>, Exception> {
    let options = RunOptions {
        training: true,
        ..*options
    };
    let parameters = graph
        .weights
        .iter()
        .zip(weights)
        .map(|(w, a)| (format!("parameter `{}`", w.path), a.clone()));
    let given = graph
        .inputs
        .iter()
        .zip(inputs)
        .map(|(input, a)| (format!("input `{}`", input.name), a.clone()));
    let mut trace: Trace = parameters.chain(given).collect();
    let cast_weights = in_compute_dtype(weights, &options)?;
    let cast_inputs = in_compute_dtype(inputs, &options)?;
    let mut ctx = LowerCtx::new(options, Some(key.clone()));
    run(
        graph,
        &cast_weights,
        &cast_inputs,
        &mut ctx,
        0,
        Some(("", &mut trace)),
    )?;
    for (name, value) in trace {
        if !all_finite(&value)? {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Whether every element of `a` is finite (integer arrays always are).
pub(crate) fn all_finite(a: &Array) -> Result<bool, Exception> {
    if !a.dtype().is_float() {
        return Ok(true);
    }
    Ok(a.is_finite()?.all(None)?.item_exact::<bool>())
}

/// A symbolic node's concrete output shape, from its concrete inputs.
fn concrete_shape(
    node: &mithril_core::graph::Node,
    inputs: &[&Array],
    bindings: &mithril_core::Bindings,
) -> Result<Vec<i32>, Exception> {
    let shapes: Vec<mithril_core::Shape> = inputs
        .iter()
        .map(|a| {
            mithril_core::Shape::known(&a.shape().iter().map(|&d| d as usize).collect::<Vec<_>>())
        })
        .collect();
    let labels: Vec<String> = (0..inputs.len()).map(|i| format!("input {i}")).collect();
    let operands: Vec<mithril_core::layers::Operand<'_>> = shapes
        .iter()
        .zip(&labels)
        .map(|(s, l)| mithril_core::layers::Operand { label: l, shape: s })
        .collect();
    let shape = node
        .op
        .bind(bindings)
        .infer(&operands)
        .map_err(|e| layer_error(node, e.message))?;
    shape
        .as_known()
        .map(|d| d.iter().map(|&n| n as i32).collect())
        .ok_or_else(|| layer_error(node, format!("its output shape {shape} is not concrete")))
}

/// [`Error::Layer`] naming `node`, raised through MLX.
fn layer_error(node: &mithril_core::graph::Node, reason: String) -> Exception {
    raise(Error::Layer {
        name: node.name.to_string(),
        call: node.call.to_string(),
        reason,
    })
}

/// A lowering's failure as [`Error::Layer`] naming `node`: the lowering's
/// own message, or MLX's. A typed error raised inside it is kept as is.
pub(crate) fn in_layer(node: &mithril_core::graph::Node, e: Exception) -> Exception {
    match Error::from(e) {
        Error::Mlx(e) => layer_error(node, mlx_message(e.what()).to_string()),
        typed => raise(typed),
    }
}

/// Checks inputs against the declared shapes and parameters against the
/// graph's weights; the error names the offending input or parameter.
pub(crate) fn check_arrays(graph: &Graph, weights: &[Array], inputs: &[&Array]) -> Result<()> {
    check_params(graph, weights)?;
    check_indices(graph, inputs)?;
    let sizes: Vec<Vec<usize>> = inputs
        .iter()
        .map(|a| a.shape().iter().map(|&d| d as usize).collect())
        .collect();
    let sizes: Vec<&[usize]> = sizes.iter().map(Vec::as_slice).collect();
    graph.infer_concrete(&sizes)?;
    Ok(())
}

/// The shapes of the arrays last checked against a graph, so that a model
/// or trainer called again with arrays of the same shapes (every step of a
/// training loop) skips the check.
#[derive(Debug, Default)]
pub(crate) struct ShapeCheck(Vec<Vec<i32>>);

impl ShapeCheck {
    /// [`check_arrays`], unless these shapes passed it last time.
    pub(crate) fn check(
        &mut self,
        graph: &Graph,
        weights: &[Array],
        inputs: &[&Array],
    ) -> Result<()> {
        let arrays = || weights.iter().chain(inputs.iter().copied());
        // Compared in place: a training loop's steady state allocates nothing.
        let unchanged = self.0.len() == weights.len() + inputs.len()
            && arrays().zip(&self.0).all(|(a, s)| a.shape() == &s[..]);
        if !unchanged {
            check_arrays(graph, weights, inputs)?;
            self.0 = arrays().map(|a| a.shape().to_vec()).collect();
        }
        Ok(())
    }
}

/// Checks that every input read as indices (by a layer whose rule says so,
/// such as `Embedding`, here or in a nested model it feeds) holds integers;
/// the error names the input.
fn check_indices(graph: &Graph, inputs: &[&Array]) -> Result<()> {
    for (i, reader) in index_inputs(graph) {
        let Some(a) = inputs.get(i) else { continue };
        if !is_integer(a.dtype()) {
            return Err(Error::Input {
                name: graph.inputs[i].name.to_string(),
                expected: format!(
                    "integer indices for {reader} (int32 or uint32: convert with `.as_dtype(Dtype::Int32)`)"
                ),
                found: format!("dtype {:?}", a.dtype()),
            });
        }
    }
    Ok(())
}

/// The inputs of `graph` that a layer reads as indices, each with that
/// layer (`` `embed: Embedding(10, 4)` ``).
fn index_inputs(graph: &Graph) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for node in &graph.nodes {
        match &node.op {
            Op::Layer(layer) if layer.reads_indices() => {
                if let Some(ValueId::Input(i)) = node.inputs.first() {
                    found.push((*i, format!("`{}: {}`", node.name, node.call)));
                }
            }
            Op::Layer(_) => {}
            Op::Model(sub) => {
                for (j, reader) in index_inputs(sub) {
                    if let Some(ValueId::Input(i)) = node.inputs.get(j) {
                        found.push((*i, format!("{reader} in `{}`", node.name)));
                    }
                }
            }
        }
    }
    found
}

/// Whether `dtype` holds integers (what indices must be).
pub(crate) fn is_integer(dtype: Dtype) -> bool {
    matches!(
        dtype,
        Dtype::Int8
            | Dtype::Int16
            | Dtype::Int32
            | Dtype::Int64
            | Dtype::Uint8
            | Dtype::Uint16
            | Dtype::Uint32
            | Dtype::Uint64
    )
}

/// Checks parameters against the graph's weights; the error names the
/// offending parameter.
pub(crate) fn check_params(graph: &Graph, weights: &[Array]) -> Result<()> {
    for (w, a) in graph.weights.iter().zip(weights) {
        let found: Vec<usize> = a.shape().iter().map(|&d| d as usize).collect();
        if found != w.shape {
            return Err(Error::ParamShape {
                path: w.path.clone(),
                expected: w.shape.clone(),
                found,
            });
        }
    }
    Ok(())
}

/// Fresh parameters for `M` with mlx.nn's default initialisation, from the
/// backend's seed (the same seed gives bit-identical parameters) and dtype.
pub fn init<M: Model>(backend: &MlxBackend) -> Result<M::Params> {
    init_graph::<M>(M::graph(), backend)
}

/// [`init`] of a graph whose parameters are `M`'s type.
pub(crate) fn init_graph<M: Family>(graph: &Graph, backend: &MlxBackend) -> Result<M::Params> {
    backend.activate();
    let mut key = random::key(backend.seed())?;
    let mut arrays = Vec::with_capacity(graph.weights.len());
    for w in &graph.weights {
        let (next, sub) = random::split(&key, 2)?;
        key = next;
        let shape: Vec<i32> = w.shape.iter().map(|&d| d as i32).collect();
        let a = match w.init {
            Init::Uniform { bound } => {
                random::uniform::<_, f32>(-bound as f32, bound as f32, &shape[..], &sub)?
            }
            Init::Normal { std } => random::normal::<f32>(&shape[..], 0.0, std as f32, &sub)?,
            Init::Zeros => Array::zeros::<f32>(&shape)?,
            Init::Ones => Array::ones::<f32>(&shape)?,
            Init::Fill { value } => ops::full::<f32>(&shape[..], Array::from_f32(value as f32))?,
        };
        arrays.push(a.as_dtype(backend.param_dtype().mlx())?);
    }
    mlx_rs::transforms::eval(arrays.iter())?;
    M::Params::from_weights(&mut arrays.into_iter(), &graph.weights).ok_or(Error::Internal(
        "the parameters made do not match the model's parameter type",
    ))
}

/// Runs `M` eagerly (no compilation): checks the inputs, lowers every node.
pub fn forward<M: Model>(params: &M::Params, inputs: &M::Inputs) -> Result<M::Outputs> {
    forward_graph::<M>(M::graph(), params, inputs)
}

/// [`forward`] of a graph whose types are `M`'s.
pub(crate) fn forward_graph<M: Family>(
    graph: &Graph,
    params: &M::Params,
    inputs: &M::Inputs,
) -> Result<M::Outputs> {
    let weights = params.to_arrays();
    let input_refs = inputs.arrays();
    check_arrays(graph, &weights, &input_refs)?;
    let inputs: Vec<Array> = input_refs.into_iter().cloned().collect();
    let outputs = run_graph(graph, &weights, &inputs, &RunOptions::default())?;
    M::Outputs::from_arrays(outputs).ok_or(Error::Internal(
        "the model's outputs do not match its graph",
    ))
}

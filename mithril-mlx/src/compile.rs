//! `compile(model, &backend)`: a model bound to a backend, whose forward and
//! vector-Jacobian products run as compiled MLX closures (graph mode) or
//! eagerly, with the same numbers.
//!
//! Compiled closures read nothing but their arguments: parameters, inputs and
//! cotangents all go in as `&[Array]`; the closure itself holds only the
//! (array-free) graph. MLX traces a closure once per distinct set of input
//! shapes: a new batch size retraces, and the earlier trace stays cached.

use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use mithril_core::graph::Graph;
use mlx_rs::Array;
use mlx_rs::error::Exception;
use mlx_rs::transforms::{compile::compile as mlx_compile, fallible_vjp};

use crate::backend::MlxBackend;
use crate::error::{Error, Result};
use crate::model::{Family, Model, Params, Values};
use crate::run::{ShapeCheck, run_graph};

/// A function from arrays to arrays, compiled or eager.
pub(crate) type Program = Box<dyn FnMut(&[Array]) -> Result<Vec<Array>, Exception>>;

/// Wraps `f` as a compiled closure in graph mode, or runs it as is.
///
/// MLX reports a compiled closure that fails while tracing only as
/// "mlx_closure returned a non-zero value"; the closure's own error (a
/// lowering's message, such as `Embedding`'s on float indices) is kept
/// aside and returned instead.
pub(crate) fn program<F>(graph_mode: bool, mut f: F) -> Program
where
    F: FnMut(&[Array]) -> Result<Vec<Array>, Exception> + 'static,
{
    if graph_mode {
        let failure: Rc<RefCell<Option<Exception>>> = Rc::default();
        let seen = Rc::clone(&failure);
        let mut compiled = mlx_compile(
            move |args: &[Array]| {
                f(args).map_err(|e| {
                    let message = e.what().to_string();
                    *seen.borrow_mut() = Some(e);
                    Exception::custom(message)
                })
            },
            None,
        );
        Box::new(move |args: &[Array]| {
            compiled(args).map_err(|e| failure.borrow_mut().take().unwrap_or(e))
        })
    } else {
        Box::new(f)
    }
}

/// Gradients from [`CompiledModel::evaluate_with_gradients`]: one array per
/// parameter and one per input, in typed structs.
#[derive(Clone, Debug)]
pub struct Gradients<M: Family> {
    /// d(outputs · cotangents)/d(parameter), shaped like the parameters.
    pub params: M::Params,
    /// d(outputs · cotangents)/d(input), shaped like the inputs.
    pub inputs: M::Inputs,
}

/// A model bound to a backend: the guide's `compile(model, backend)`.
///
/// Models come from `mithril::model!`; the `mithril` crate's documentation
/// has a runnable example of `evaluate` and `evaluate_with_gradients`.
pub struct CompiledModel<M: Family> {
    backend: MlxBackend,
    graph: Arc<Graph>,
    forward: Program,
    /// One vjp program per set of outputs given cotangents.
    vjps: HashMap<Vec<bool>, Program>,
    /// Shapes last checked, so steady-state calls skip the check.
    checked: ShapeCheck,
    /// Whether verbose mode has printed the lowering.
    printed: bool,
    model: PhantomData<M>,
}

/// Binds `M` to `backend` (graph mode on: compiled closures; off: eager).
pub fn compile<M: Model>(backend: &MlxBackend) -> CompiledModel<M> {
    CompiledModel::new(Arc::clone(M::graph()), backend)
}

impl<M: Family> CompiledModel<M> {
    /// `graph` bound to `backend`: a model's, or a family's instantiation's.
    pub(crate) fn new(graph: Arc<Graph>, backend: &MlxBackend) -> CompiledModel<M> {
        let options = backend.run_options(false);
        let traced = Arc::clone(&graph);
        let forward = program(backend.graph_mode(), move |args: &[Array]| {
            let n = traced.weights.len();
            run_graph(&traced, &args[..n], &args[n..], &options)
        });
        CompiledModel {
            backend: backend.clone(),
            graph,
            forward,
            vjps: HashMap::new(),
            checked: ShapeCheck::default(),
            printed: false,
            model: PhantomData,
        }
    }
}

impl<M: Family> CompiledModel<M> {
    /// The graph it runs.
    pub fn graph(&self) -> &Arc<Graph> {
        &self.graph
    }

    /// The backend.
    pub fn backend(&self) -> &MlxBackend {
        &self.backend
    }

    /// Runs the model: `evaluate(params, inputs)`.
    pub fn evaluate(&mut self, params: &M::Params, inputs: &M::Inputs) -> Result<M::Outputs> {
        self.backend.activate();
        let mut args = params.to_arrays();
        let input_refs = inputs.arrays();
        self.checked.check(&self.graph, &args, &input_refs)?;
        args.extend(input_refs.into_iter().cloned());
        if self.backend.verbose() && !self.printed {
            self.printed = true;
            eprintln!("{}", self.lowering(&args)?);
        }
        let outputs = (self.forward)(&args)?;
        M::Outputs::from_arrays(outputs).ok_or(Error::Internal(
            "the model's outputs do not match its graph",
        ))
    }

    /// The model's summary and MLX's listing of the operations its forward
    /// lowers to for these arguments (what verbose mode prints).
    pub fn lowering(&self, args: &[Array]) -> Result<String> {
        let graph = &self.graph;
        let n = graph.weights.len();
        let options = self.backend.run_options(false);
        let outputs = run_graph(graph, &args[..n], &args[n..], &options)?;
        let mut names: Vec<(&Array, &str)> = graph
            .weights
            .iter()
            .zip(args)
            .map(|(w, a)| (a, w.path.as_str()))
            .collect();
        names.extend(
            graph
                .inputs
                .iter()
                .zip(&args[n..])
                .map(|(i, a)| (a, i.name.as_str())),
        );
        let outputs: Vec<&Array> = outputs.iter().collect();
        let listing = crate::debug::print_graph(&outputs, &names)?;
        Ok(format!(
            "{}\nlowered to MLX operations:\n{listing}",
            graph.summary()
        ))
    }

    /// Runs the model and back-propagates `output_gradients` (cotangents for
    /// the named outputs; outputs not named get none and cost no backward work):
    /// the guide's `evaluate(params, inputs, output_gradients=...)`.
    pub fn evaluate_with_gradients(
        &mut self,
        params: &M::Params,
        inputs: &M::Inputs,
        output_gradients: &[(&str, Array)],
    ) -> Result<(M::Outputs, Gradients<M>)> {
        self.backend.activate();
        let names = M::Outputs::NAMES;
        let mut selected = vec![false; names.len()];
        let mut cotangents: Vec<Option<&Array>> = vec![None; names.len()];
        for (name, cotangent) in output_gradients {
            match names.iter().position(|n| n == name) {
                Some(i) => {
                    selected[i] = true;
                    cotangents[i] = Some(cotangent);
                }
                None => {
                    return Err(Error::UnknownOutput {
                        model: M::NAME,
                        name: name.to_string(),
                        known: names.join(", "),
                    });
                }
            }
        }
        let weights = params.to_arrays();
        let input_refs = inputs.arrays();
        self.checked.check(&self.graph, &weights, &input_refs)?;
        let (n_weights, n_inputs) = (weights.len(), input_refs.len());
        let mut args = weights;
        args.extend(input_refs.into_iter().cloned());
        args.extend(cotangents.into_iter().flatten().cloned());

        let graph_mode = self.backend.graph_mode();
        let options = self.backend.run_options(false);
        let vjp = self.vjps.entry(selected.clone()).or_insert_with(|| {
            let graph = Arc::clone(&self.graph);
            let selected = selected.clone();
            program(graph_mode, move |args: &[Array]| {
                let primals = &args[..n_weights + n_inputs];
                let cotangents = &args[n_weights + n_inputs..];
                let outputs = run_graph(
                    &graph,
                    &primals[..n_weights],
                    &primals[n_weights..],
                    &options,
                )?;
                let chosen = |p: &[Array]| -> Result<Vec<Array>, Exception> {
                    let outs = run_graph(&graph, &p[..n_weights], &p[n_weights..], &options)?;
                    Ok(outs
                        .into_iter()
                        .zip(&selected)
                        .filter(|(_, s)| **s)
                        .map(|(o, _)| o)
                        .collect())
                };
                let (_, grads) = fallible_vjp(chosen, primals, cotangents)?;
                let mut result = outputs;
                result.extend(grads);
                Ok(result)
            })
        });
        let mut results = vjp(&args)?;
        let grads = results.split_off(names.len());
        let outputs = M::Outputs::from_arrays(results).ok_or(Error::Internal(
            "the model's outputs do not match its graph",
        ))?;
        let mut grads = grads.into_iter();
        let mismatch =
            || Error::Internal("the gradients do not match the model's parameters and inputs");
        let params =
            M::Params::from_weights(&mut grads, &self.graph.weights).ok_or_else(mismatch)?;
        let inputs = M::Inputs::from_arrays(grads.collect()).ok_or_else(mismatch)?;
        Ok((outputs, Gradients { params, inputs }))
    }
}

/// The graph of a model (its summary, weights and shapes).
pub fn graph_of<M: Model>() -> &'static Graph {
    M::graph()
}

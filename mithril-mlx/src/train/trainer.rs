//! [`Trainer`]: the train step (forward, loss, backward, optimizer update)
//! as one compiled MLX closure with the parameters and the optimizer's state
//! as explicit state.

use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use mithril_core::graph::{Graph, Op};
use mlx_rs::error::Exception;
use mlx_rs::optimizers::Optimizer;
use mlx_rs::transforms::compile::compile_with_state;
use mlx_rs::{Array, ops};

use super::StepTimes;
use super::objective::{BoundObjective, Objective, ObjectiveRun};
use super::{divergence, optimizer_state};
use crate::backend::MlxBackend;
use crate::compile::{Program, program};
use crate::distributed::{Group, average_gradients};
use crate::error::{Error, Result, raise};
use crate::lower::RunOptions;
use crate::model::{Family, Model, Params, Values};
use crate::run::ShapeCheck;

/// Gradients are averaged across processes in buckets of about this many
/// bytes (Python MLX's `nn.average_gradients` default).
const GRADIENT_BUCKET_BYTES: usize = 32 << 20;

/// The loss, gradients and new buffer values averaged over `group`'s
/// processes, in as few collectives as their sizes allow.
fn average_step(
    group: &Group,
    loss: Array,
    grads: Vec<Array>,
    buffers: Vec<Array>,
) -> Result<(Array, Vec<Array>, Vec<Array>), Exception> {
    if group.size() == 1 {
        return Ok((loss, grads, buffers));
    }
    let (n_grads, n_buffers) = (grads.len(), buffers.len());
    let all: Vec<Array> = std::iter::once(loss).chain(grads).chain(buffers).collect();
    let mut averaged = average_gradients(group, &all, GRADIENT_BUCKET_BYTES)?.into_iter();
    let loss = averaged
        .next()
        .ok_or_else(|| raise(Error::Internal("the averaging lost the loss")))?;
    let grads: Vec<Array> = averaged.by_ref().take(n_grads).collect();
    let buffers: Vec<Array> = averaged.take(n_buffers).collect();
    Ok((loss, grads, buffers))
}

/// Whether running `graph` in training mode draws random numbers: a layer
/// whose rule says so, in it or in a nested model.
fn draws_random_numbers(graph: &Graph) -> bool {
    graph.nodes.iter().any(|node| match &node.op {
        Op::Layer(layer) => layer.draws_random_numbers(),
        Op::Model(sub) => draws_random_numbers(sub),
    })
}

/// The result of one training step.
#[derive(Clone, Debug)]
pub struct StepOutput {
    /// The objective before the update (a scalar).
    pub loss: Array,
}

/// What a train step reads and writes: the weights and the optimizer.
type StepState<O> = (Vec<Array>, O);

type StepFn<O> = Box<dyn FnMut(&mut StepState<O>, &[Array]) -> Result<Vec<Array>, Exception>>;

/// Trains a model with an mlx-rs optimizer, in training mode (dropout on,
/// batch statistics updated).
///
/// In graph mode a step runs as one compiled closure over explicit state:
/// the parameters, the buffers and the optimizer's state go in and come out;
/// the step's random key is an argument; nothing is captured. The trainer's
/// first step (`steps() == 0`) runs eagerly instead, because it creates the
/// optimizer's state, as Python MLX's `optimizer.init` would. A trainer
/// [restored](Self::restore) from a checkpoint taken after step k runs step
/// k + 1 compiled, exactly as the run it continues did, so the two agree
/// bit for bit.
///
/// [`Self::stop_on_non_finite`] makes a step that meets a NaN or infinity
/// an [`Error::Diverged`] that leaves everything as before the step;
/// [`Self::save_checkpoint`] and [`Self::restore`] save and continue a whole
/// run (see [`crate::checkpoint`]).
pub struct Trainer<M: Family, O: Optimizer + 'static> {
    pub(super) backend: MlxBackend,
    /// The graph it trains: a model's, or a family's instantiation's.
    pub(super) graph: Arc<Graph>,
    pub(super) objective: Rc<BoundObjective>,
    pub(super) trainable: Rc<Vec<usize>>,
    pub(super) state: Option<StepState<O>>,
    pub(super) keys: Rc<Vec<Rc<str>>>,
    pub(super) key: Array,
    /// Whether the graph draws random numbers in training mode; if not, the
    /// key is passed unchanged instead of split every step.
    pub(super) stochastic: bool,
    /// Whether steps check their values for NaN and infinity.
    pub(super) stop_on_non_finite: bool,
    /// The processes whose gradients each step averages (one: no averaging).
    pub(super) group: Group,
    pub(super) compiled: Option<StepFn<O>>,
    pub(super) gradients: Option<Program>,
    pub(super) checked: ShapeCheck,
    pub(super) steps: u64,
    /// The host-side phases of the last step.
    pub(super) times: StepTimes,
    pub(super) model: PhantomData<M>,
}

impl<M: Model, O: Optimizer + 'static> Trainer<M, O> {
    /// A trainer for `objective` with `optimizer` (e.g. `mlx_rs::optimizers::Adam::new(1e-3)`).
    /// Dropout draws from a key seeded by the backend's seed.
    pub fn new(backend: &MlxBackend, objective: &Objective, optimizer: O) -> Result<Self> {
        Trainer::with_graph(Arc::clone(M::graph()), backend, objective, optimizer)
    }
}

impl<F: Family, O: Optimizer + 'static> Trainer<F, O> {
    /// A trainer of a family's instantiation made at run time
    /// ([`Instance`](crate::Instance)), as [`Trainer::new`] of a model.
    pub fn for_instance(
        instance: &crate::Instance<F>,
        backend: &MlxBackend,
        objective: &Objective,
        optimizer: O,
    ) -> Result<Self> {
        Trainer::with_graph(Arc::clone(instance.graph()), backend, objective, optimizer)
    }
}

impl<M: Family, O: Optimizer + 'static> Trainer<M, O> {
    fn with_graph(
        graph: Arc<Graph>,
        backend: &MlxBackend,
        objective: &Objective,
        optimizer: O,
    ) -> Result<Self> {
        let objective = Rc::new(objective.bind(M::NAME, &graph)?);
        let stochastic = draws_random_numbers(&graph);
        let keys = Rc::new(
            graph
                .weights
                .iter()
                .map(|w| Rc::from(w.path.as_str()))
                .collect(),
        );
        let trainable = Rc::new(
            graph
                .weights
                .iter()
                .enumerate()
                .filter(|(_, w)| w.trainable)
                .map(|(i, _)| i)
                .collect(),
        );
        Ok(Trainer {
            backend: backend.clone(),
            graph,
            objective,
            trainable,
            state: Some((Vec::new(), optimizer)),
            keys,
            key: mlx_rs::random::key(backend.seed() ^ 0x5EED_D20F)?,
            stochastic,
            stop_on_non_finite: false,
            group: Group::single(),
            compiled: None,
            gradients: None,
            checked: ShapeCheck::default(),
            steps: 0,
            times: StepTimes::default(),
            model: PhantomData,
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Where the host's time went in the last [`Self::step`], phase by
    /// phase (zero before the first).
    pub fn last_step_times(&self) -> StepTimes {
        self.times
    }

    /// The optimizer (its learning rate and state).
    pub fn optimizer(&self) -> Option<&O> {
        self.state.as_ref().map(|(_, o)| o)
    }

    /// With `on`, every later step checks that the loss and every
    /// parameter after the update are finite (a non-finite gradient shows in
    /// its parameter), inside the step: the sums of the parameters and the
    /// loss are tested in the compiled closure and one small bool array
    /// comes back with the loss. A step that meets NaN or infinity returns
    /// [`Error::Diverged`], naming the step and the first value that went
    /// non-finite (a parameter, an input, a layer's output, the loss, a
    /// gradient or an updated parameter, found by re-running the step
    /// eagerly), and is not applied: the parameters, optimizer state,
    /// random key and step count stay as they were, so the last checkpoint
    /// and the parameters in hand are good.
    pub fn stop_on_non_finite(&mut self, on: bool) -> &mut Self {
        if on != self.stop_on_non_finite {
            self.stop_on_non_finite = on;
            // The step's outputs change: trace it again.
            self.compiled = None;
        }
        self
    }

    /// Data-parallel training over `group` (see [`crate::distributed`]):
    /// every step averages the gradients over the group's processes before
    /// the optimizer's update, inside the compiled step (in buckets, as
    /// Python MLX's `nn.average_gradients` does), and reports the loss
    /// averaged over them. Each process steps on its own part of the batch
    /// ([`crate::distributed::shard`]); one step on N processes with b
    /// samples each is one step on one process with their N·b samples.
    /// Buffers (BatchNorm's running statistics) are averaged too, so the
    /// parameters stay identical on every process; checkpoints are written
    /// by rank 0 only. Set it before the first step.
    pub fn data_parallel(&mut self, group: &Group) -> &mut Self {
        self.group = group.clone();
        // The step's computation changes: trace it again.
        self.compiled = None;
        self.gradients = None;
        self
    }

    /// The group set by [`Self::data_parallel`] (a group of one by default).
    pub fn group(&self) -> &Group {
        &self.group
    }

    /// The next step's random key. A graph without dropout never reads it:
    /// it then gets the same key every step, which saves a split (a few
    /// MLX operations evaluated with every step, about 5% of a small
    /// model's compiled step on CPU).
    fn step_key(&mut self) -> Result<Array> {
        if !self.stochastic {
            return Ok(self.key.clone());
        }
        let (next, sub) = mlx_rs::random::split(&self.key, 2)?;
        self.key = next;
        Ok(sub)
    }

    fn runner(&self) -> (Arc<Graph>, Rc<BoundObjective>, RunOptions, Rc<Vec<usize>>) {
        (
            Arc::clone(&self.graph),
            Rc::clone(&self.objective),
            self.backend.run_options(true),
            Rc::clone(&self.trainable),
        )
    }

    /// The objective and its gradients for every parameter, in training mode
    /// and without updating anything (compiled in graph mode): for hand-written
    /// update rules. Buffers (batch statistics) get zero gradients and are
    /// not updated; use [`Self::step`] for models with batch norm.
    pub fn loss_and_gradients(
        &mut self,
        params: &M::Params,
        inputs: &M::Inputs,
        targets: &Array,
    ) -> Result<(Array, M::Params)> {
        self.backend.activate();
        let mut args = params.to_arrays();
        let input_refs = inputs.arrays();
        self.checked.check(&self.graph, &args, &input_refs)?;
        let n_weights = args.len();
        args.extend(input_refs.into_iter().cloned());
        args.push(targets.clone());
        args.push(self.step_key()?);
        let graph_mode = self.backend.graph_mode();
        let (graph, objective, options, trainable) = self.runner();
        let group = self.group.clone();
        let program = self.gradients.get_or_insert_with(|| {
            program(graph_mode, move |args: &[Array]| {
                let [rest @ .., targets, key] = args else {
                    return Err(raise(Error::Internal(
                        "a step's arguments lack the targets or the key",
                    )));
                };
                let run = ObjectiveRun {
                    graph: &graph,
                    objective: &objective,
                    options,
                    trainable: &trainable,
                };
                let weights = &rest[..n_weights];
                let (loss, grads, _) =
                    run.value_and_gradients(weights, &rest[n_weights..], targets, key)?;
                let (loss, grads, _) = average_step(&group, loss, grads, Vec::new())?;
                let mut out = vec![loss];
                let mut grads = grads.into_iter();
                for (i, w) in weights.iter().enumerate() {
                    out.push(match trainable.contains(&i) {
                        true => grads
                            .next()
                            .ok_or_else(|| raise(Error::Internal("a gradient was lost")))?,
                        false => ops::zeros_like(w)?,
                    });
                }
                Ok(out)
            })
        });
        let out = program(&args)?;
        if self.group.size() > 1 {
            // The averaging's collectives run now, under the watchdog.
            self.group
                .guarded("gradients", || mlx_rs::transforms::eval(out.iter()))?;
        }
        let mut out = out.into_iter();
        let loss = out
            .next()
            .ok_or(Error::Internal("the step returned no loss"))?;
        let grads = M::Params::from_weights(&mut out, &self.graph.weights).ok_or(
            Error::Internal("the gradients do not match the model's parameters"),
        )?;
        Ok((loss, grads))
    }

    /// The step as a function of the state (weights, optimizer) and the
    /// arguments (inputs, targets, key): what runs eagerly or compiled. Its
    /// outputs are the loss and, when checking, the finiteness flags.
    fn step_fn(
        &self,
    ) -> impl FnMut(&mut StepState<O>, &[Array]) -> Result<Vec<Array>, Exception> + 'static {
        let (graph, objective, options, trainable) = self.runner();
        let keys = Rc::clone(&self.keys);
        let check_finite = self.stop_on_non_finite;
        let group = self.group.clone();
        move |state: &mut StepState<O>, args: &[Array]| {
            let [inputs @ .., targets, key] = args else {
                return Err(raise(Error::Internal(
                    "a step's arguments lack the targets or the key",
                )));
            };
            let run = ObjectiveRun {
                graph: &graph,
                objective: &objective,
                options,
                trainable: &trainable,
            };
            let (loss, grads, buffer_values) =
                run.value_and_gradients(&state.0, inputs, targets, key)?;
            // Data-parallel: every process applies the same mean update. One
            // averaging for everything keeps the collectives per step few.
            let (loss, grads, buffer_values) = average_step(&group, loss, grads, buffer_values)?;
            let (weights, optimizer) = state;
            for (&i, grad) in trainable.iter().zip(&grads) {
                optimizer.update_single(&keys[i], grad, &mut weights[i])?;
            }
            let buffers = (0..weights.len()).filter(|i| !trainable.contains(i));
            for (i, value) in buffers.zip(buffer_values) {
                weights[i] = value;
            }
            let flags = match check_finite {
                true => Some(divergence::finite_flags(&loss, weights)?),
                false => None,
            };
            Ok([loss].into_iter().chain(flags).collect())
        }
    }

    /// One step: forward (training mode), objective, backward, optimizer
    /// update of the trainable parameters, new batch statistics. A step
    /// that fails leaves the step count and the random key as they were
    /// (and, with [`Self::stop_on_non_finite`], the optimizer's state too).
    pub fn step(
        &mut self,
        params: &mut M::Params,
        inputs: &M::Inputs,
        targets: &Array,
    ) -> Result<StepOutput> {
        let start = Instant::now();
        self.backend.activate();
        let weights = params.to_arrays();
        let input_refs = inputs.arrays();
        self.checked.check(&self.graph, &weights, &input_refs)?;
        // What a refused step puts back (arrays are shared, not copied).
        let saved = match (self.stop_on_non_finite, self.state.as_mut()) {
            (true, Some((_, optimizer))) => Some(optimizer_state::entries(optimizer)?),
            _ => None,
        };
        let key_before = self.key.clone();
        let mut args: Vec<Array> = input_refs.into_iter().cloned().collect();
        args.push(targets.clone());
        args.push(self.step_key()?);

        let lost = || Error::Internal("the trainer's state was lost to an earlier panic");
        let mut state = self.state.take().ok_or_else(lost)?;
        state.0 = weights.clone();
        // Compiled from the second step on: the first creates the
        // optimizer's state (a restored trainer has it already).
        if self.backend.graph_mode() && self.compiled.is_none() && self.steps > 0 {
            let mut compiled = compile_with_state(self.step_fn(), None);
            self.compiled = Some(Box::new(move |s: &mut StepState<O>, a: &[Array]| {
                compiled(s, a)
            }));
        }
        let prepared = Instant::now();
        let result = match self.compiled.as_mut() {
            Some(compiled) => compiled(&mut state, &args),
            None => self.step_fn()(&mut state, &args),
        };
        let called = Instant::now();
        let mut queued = called;
        let outcome = result.map_err(Error::from).and_then(|out| {
            let mut out = out.into_iter();
            let loss = out
                .next()
                .ok_or(Error::Internal("the step returned no loss"))?;
            let flags = out.next();
            let outputs = state.0.iter().chain([&loss]).chain(&flags);
            if flags.is_none() && self.group.size() == 1 {
                // Nothing to inspect before the next step: let MLX run this
                // one while the caller prepares the next (reading the loss
                // waits for it).
                mlx_rs::transforms::async_eval(outputs)?;
            } else {
                let step = format!("step {}", self.steps + 1);
                self.group
                    .guarded(&step, || mlx_rs::transforms::eval(outputs))?;
            }
            queued = Instant::now();
            if let Some(flags) = &flags {
                self.check_finite(flags, &loss, &weights, &state.0, &args)?;
            }
            *params =
                M::Params::from_weights(&mut state.0.clone().into_iter(), &self.graph.weights)
                    .ok_or(Error::Internal(
                        "the step's parameters do not match the model's",
                    ))?;
            Ok(StepOutput { loss })
        });
        let rolled_back = match (&outcome, saved) {
            (Ok(_), _) => {
                self.steps += 1;
                Ok(())
            }
            (Err(_), saved) => {
                self.key = key_before;
                saved.map_or(Ok(()), |saved| optimizer_state::set(&mut state.1, saved))
            }
        };
        self.state = Some(state);
        let end = Instant::now();
        self.times = StepTimes {
            prepare: prepared - start,
            call: called - prepared,
            queue: queued - called,
            finish: end - queued,
        };
        rolled_back?;
        outcome
    }
}

//! [`Trainer`]: the train step (forward, loss, backward, optimizer update)
//! as one compiled MLX closure over flat arrays: the parameters and the
//! optimizer's state go in as arguments and come out as outputs.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mithril_core::graph::Graph;
use mlx_rs::error::Exception;
use mlx_rs::optimizers::Optimizer;
use mlx_rs::{Array, ops};

use super::StepTimes;
use super::objective::{BoundObjective, Objective, ObjectiveRun};
use super::optimizer_state::FlatState;
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

/// The result of one training step.
#[derive(Clone, Debug)]
pub struct StepOutput {
    /// The objective before the update (a scalar).
    pub loss: Array,
}

/// What an eager step reads and writes: the weights and the optimizer.
type StepState<O> = (Vec<Array>, O);

/// A compiled step and the optimizer-state keys it was traced for.
type CompiledStep = (Rc<[Rc<str>]>, Program);

fn lost() -> Error {
    Error::Internal("the trainer's state was lost to an earlier panic")
}

/// Trains a model with an mlx-rs optimizer, in training mode (dropout on,
/// batch statistics updated).
///
/// In graph mode a step runs as one compiled closure over flat arrays: the
/// parameters, the buffers, the optimizer's state, the inputs, the targets
/// and the step's random key go in as arguments; the loss, the new
/// parameters and buffers and the new optimizer state come out; no array is
/// captured. Between compiled steps the trainer keeps the optimizer's state
/// as that flat list of arrays (its keys fixed when the step is traced), so
/// a step does no per-key work on the host. The trainer's
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
    /// The optimizer (`None` only after a panic inside a step). While
    /// `flat` is set, its state is empty.
    pub(super) optimizer: Option<O>,
    /// The optimizer's state between compiled steps.
    pub(super) flat: Option<FlatState>,
    /// Where a compiled step finds the optimizer while it is traced.
    pub(super) slot: Rc<RefCell<Option<O>>>,
    pub(super) keys: Rc<Vec<Rc<str>>>,
    pub(super) key: Array,
    /// Whether the graph draws random numbers in training mode; if not, the
    /// key is passed unchanged instead of split every step.
    pub(super) stochastic: bool,
    /// Whether steps check their values for NaN and infinity.
    pub(super) stop_on_non_finite: bool,
    /// The processes whose gradients each step averages (one: no averaging).
    pub(super) group: Group,
    pub(super) compiled: Option<CompiledStep>,
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
        let stochastic = graph.draws_random_numbers();
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
            optimizer: Some(optimizer),
            flat: None,
            slot: Rc::default(),
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

    /// The optimizer (its learning rate and state). Between compiled steps
    /// the trainer holds the optimizer's state as flat arrays; this puts
    /// them back into the optimizer first (a per-key pass over the state,
    /// which the steps themselves avoid). `None` after a panic inside a
    /// step lost it.
    pub fn optimizer(&mut self) -> Option<&O> {
        self.settle_optimizer().ok()?;
        self.optimizer.as_ref()
    }

    /// Puts the flat state of the compiled steps back into the optimizer.
    pub(super) fn settle_optimizer(&mut self) -> Result<()> {
        if let Some(flat) = self.flat.take() {
            let optimizer = self.optimizer.as_mut().ok_or_else(lost)?;
            optimizer_state::set(optimizer, flat.entries())?;
        }
        Ok(())
    }

    /// The optimizer's state as named arrays (shared, not copied): the flat
    /// state of the compiled steps, or the optimizer's own.
    pub(super) fn optimizer_entries(&mut self) -> Result<Vec<(Rc<str>, Array)>> {
        match (&self.flat, self.optimizer.as_mut()) {
            (Some(flat), _) => Ok(flat.entries()),
            (None, Some(optimizer)) => Ok(optimizer_state::entries(optimizer)?),
            (None, None) => Err(lost()),
        }
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

    /// The eager step as a function of the state (weights, optimizer) and
    /// the arguments (inputs, targets, key). Its outputs are the loss and,
    /// when checking, the finiteness flags.
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
            let (weights, optimizer) = state;
            let (loss, weights_out) = update(
                UpdateRun {
                    run: ObjectiveRun {
                        graph: &graph,
                        objective: &objective,
                        options,
                        trainable: &trainable,
                    },
                    group: &group,
                    keys: &keys,
                },
                optimizer,
                weights,
                inputs,
                targets,
                key,
            )?;
            *weights = weights_out;
            let flags = match check_finite {
                true => Some(divergence::finite_flags(&loss, weights)?),
                false => None,
            };
            Ok([loss].into_iter().chain(flags).collect())
        }
    }

    /// The compiled step over flat arrays, traced for the optimizer-state
    /// `state_keys`: its arguments are the weights (`n_weights`), the
    /// optimizer's state (one array per key), the inputs, the targets and
    /// the key; its outputs the loss, the finiteness flags when checking,
    /// the new weights and the new optimizer state. While it is traced, the
    /// optimizer (from `self.slot`) holds the traced state, and gets its
    /// own back after.
    fn compiled_step_fn(&self, state_keys: Rc<[Rc<str>]>, n_weights: usize) -> Program {
        let (graph, objective, options, trainable) = self.runner();
        let keys = Rc::clone(&self.keys);
        let check_finite = self.stop_on_non_finite;
        let group = self.group.clone();
        let slot = Rc::clone(&self.slot);
        program(true, move |args: &[Array]| {
            let n_state = state_keys.len();
            if args.len() < n_weights + n_state + 2 {
                return Err(raise(Error::Internal(
                    "a step's arguments lack the weights, the optimizer's state, the targets or the key",
                )));
            }
            let (weights, rest) = args.split_at(n_weights);
            let (state, rest) = rest.split_at(n_state);
            let [inputs @ .., targets, key] = rest else {
                return Err(raise(Error::Internal(
                    "a step's arguments lack the targets or the key",
                )));
            };
            let mut slot = slot.borrow_mut();
            let optimizer = slot.as_mut().ok_or_else(|| {
                raise(Error::Internal(
                    "the optimizer was not handed to the compiled step",
                ))
            })?;
            let traced = optimizer_state::from_entries::<O>(
                state_keys
                    .iter()
                    .cloned()
                    .zip(state.iter().cloned())
                    .collect(),
            )
            .map_err(|_| raise(Error::Internal("an optimizer's own state did not fit it")))?;
            let own = std::mem::replace(optimizer.state_mut(), traced);
            let run = UpdateRun {
                run: ObjectiveRun {
                    graph: &graph,
                    objective: &objective,
                    options,
                    trainable: &trainable,
                },
                group: &group,
                keys: &keys,
            };
            let updated = update(run, optimizer, weights, inputs, targets, key)
                .and_then(|out| Ok((out, optimizer_state::entries(optimizer)?)));
            *optimizer.state_mut() = own;
            let ((loss, weights), entries) = updated?;
            let same_keys = entries.len() == n_state
                && entries
                    .iter()
                    .zip(state_keys.iter())
                    .all(|((k, _), key)| k == key);
            if !same_keys {
                return Err(raise(Error::Internal(
                    "the optimizer's state changed its keys in a compiled step",
                )));
            }
            let flags = match check_finite {
                true => Some(divergence::finite_flags(&loss, &weights)?),
                false => None,
            };
            Ok([loss]
                .into_iter()
                .chain(flags)
                .chain(weights)
                .chain(entries.into_iter().map(|(_, a)| a))
                .collect())
        })
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
        let key_before = self.key.clone();
        let key = self.step_key()?;
        // Compiled from the second step on: the first creates the
        // optimizer's state (a restored trainer has it already).
        let compiled = self.backend.graph_mode() && self.steps > 0;
        let outcome = match compiled {
            true => self.compiled_step(start, params, weights, &input_refs, targets, key),
            false => self.eager_step(start, params, weights, &input_refs, targets, key),
        };
        match outcome {
            Ok(_) => self.steps += 1,
            Err(_) => self.key = key_before,
        }
        outcome
    }

    /// Queues the step's `outputs` (`async_eval`), or, when the step must be
    /// inspected (`checking`) or averages over processes, runs them and
    /// waits, under the group's watchdog.
    fn queue<'a>(
        &self,
        checking: bool,
        outputs: impl IntoIterator<Item = &'a Array>,
    ) -> Result<()> {
        if !checking && self.group.size() == 1 {
            // Nothing to inspect before the next step: let MLX run this
            // one while the caller prepares the next (reading the loss
            // waits for it).
            mlx_rs::transforms::async_eval(outputs)?;
        } else {
            let step = format!("step {}", self.steps + 1);
            self.group
                .guarded(&step, || mlx_rs::transforms::eval(outputs))?;
        }
        Ok(())
    }

    /// A compiled step: the weights, the flat optimizer state and the
    /// arguments in, the loss, new weights and new state out. A refused or
    /// failed step keeps the flat state it started from.
    fn compiled_step(
        &mut self,
        start: Instant,
        params: &mut M::Params,
        weights: Vec<Array>,
        input_refs: &[&Array],
        targets: &Array,
        key: Array,
    ) -> Result<StepOutput> {
        let optimizer = self.optimizer.as_mut().ok_or_else(lost)?;
        let flat = match self.flat.take() {
            Some(flat) => flat,
            None => FlatState::take(optimizer)?,
        };
        let (n_weights, n_state) = (weights.len(), flat.arrays.len());
        let stale = match &self.compiled {
            Some((keys, _)) => !Rc::ptr_eq(keys, &flat.keys) && keys[..] != flat.keys[..],
            None => true,
        };
        if stale {
            let program = self.compiled_step_fn(Rc::clone(&flat.keys), n_weights);
            self.compiled = Some((Rc::clone(&flat.keys), program));
        }
        // The state's arrays move into the arguments (no copies of their
        // handles); a failed step moves them back.
        let FlatState { keys, arrays } = flat;
        let mut args = weights;
        args.reserve(n_state + input_refs.len() + 2);
        args.extend(arrays);
        args.extend(input_refs.iter().map(|a| (*a).clone()));
        args.push(targets.clone());
        args.push(key);
        self.flat = Some(FlatState {
            keys,
            arrays: Vec::new(),
        });

        // The optimizer is lent to the step for tracing (a cached trace
        // does not read it).
        *self.slot.borrow_mut() = self.optimizer.take();
        let prepared = Instant::now();
        let result = match self.compiled.as_mut() {
            Some((_, program)) => program(&args),
            None => Err(Exception::custom("no compiled step")),
        };
        let called = Instant::now();
        self.optimizer = self.slot.borrow_mut().take();

        let mut queue = Duration::ZERO;
        let outcome = match self.optimizer {
            Some(_) => result
                .map_err(Error::from)
                .and_then(|out| self.apply_compiled(out, &mut args, params, &mut queue)),
            None => Err(lost()),
        };
        if let (Err(_), Some(flat)) = (&outcome, self.flat.as_mut())
            && !args.is_empty()
        {
            flat.arrays = args.drain(n_weights..n_weights + n_state).collect();
        }
        self.times = StepTimes {
            prepare: prepared - start,
            call: called - prepared,
            queue,
            finish: called.elapsed().saturating_sub(queue),
        };
        outcome
    }

    /// Takes a compiled step's outputs `out` for its arguments `args`:
    /// queues them, checks them when checking, and makes the new weights
    /// `params` and the new optimizer state the flat state; `queue` gets
    /// the time spent queueing. A step that is not inspected (no check, one
    /// process) releases the old parameters, optimizer state and arguments
    /// (`args` left empty) before it is queued, so that MLX may reuse their
    /// buffers for the new ones (as Python MLX's compiled step, which
    /// replaces its state, lets it); an inspected one keeps them until it
    /// stands, and leaves `args` whole when it fails.
    fn apply_compiled(
        &mut self,
        out: Vec<Array>,
        args: &mut Vec<Array>,
        params: &mut M::Params,
        queue: &mut Duration,
    ) -> Result<StepOutput> {
        let checking = self.stop_on_non_finite;
        let n_weights = self.graph.weights.len();
        let n_state = self.flat.as_ref().map_or(0, |f| f.keys.len());
        if out.len() != 1 + usize::from(checking) + n_weights + n_state {
            return Err(Error::Internal(
                "the compiled step returned the wrong number of arrays",
            ));
        }
        let mut out = out.into_iter();
        let loss = out.next().ok_or(Error::Internal("no loss"))?;
        let flags = if checking { out.next() } else { None };
        let new_weights: Vec<Array> = out.by_ref().take(n_weights).collect();
        let new_state: Vec<Array> = out.collect();
        let new_params =
            M::Params::from_weights(&mut new_weights.iter().cloned(), &self.graph.weights).ok_or(
                Error::Internal("the step's parameters do not match the model's"),
            )?;
        let queued = Instant::now();
        if checking || self.group.size() > 1 {
            let outputs = new_weights
                .iter()
                .chain(&new_state)
                .chain([&loss])
                .chain(&flags);
            self.queue(checking, outputs)?;
            *queue = queued.elapsed();
            if let Some(flags) = &flags {
                let (before, rest) = args.split_at(n_weights);
                self.check_finite(flags, &loss, before, &new_weights, &rest[n_state..])?;
            }
            *params = new_params;
            let flat = self.flat.as_mut().ok_or_else(lost)?;
            flat.arrays = new_state;
        } else {
            args.clear();
            *params = new_params;
            let flat = self.flat.as_mut().ok_or_else(lost)?;
            flat.arrays = new_state;
            let queued = Instant::now();
            let outputs = new_weights.iter().chain(&flat.arrays).chain([&loss]);
            // Nothing to inspect before the next step: let MLX run this one
            // while the caller prepares the next (reading the loss waits
            // for it).
            mlx_rs::transforms::async_eval(outputs)?;
            *queue = queued.elapsed();
        }
        Ok(StepOutput { loss })
    }

    /// An eager step (graph mode off, or the first step, which creates the
    /// optimizer's state): the step function run on the optimizer itself.
    fn eager_step(
        &mut self,
        start: Instant,
        params: &mut M::Params,
        weights: Vec<Array>,
        input_refs: &[&Array],
        targets: &Array,
        key: Array,
    ) -> Result<StepOutput> {
        self.settle_optimizer()?;
        let checking = self.stop_on_non_finite;
        // What a refused step puts back (arrays are shared, not copied).
        let saved = match (checking, self.optimizer.as_mut()) {
            (true, Some(optimizer)) => Some(optimizer_state::entries(optimizer)?),
            _ => None,
        };
        let mut args: Vec<Array> = input_refs.iter().map(|a| (*a).clone()).collect();
        args.push(targets.clone());
        args.push(key);
        let optimizer = self.optimizer.take().ok_or_else(lost)?;
        let mut state = (weights.clone(), optimizer);
        let prepared = Instant::now();
        let result = self.step_fn()(&mut state, &args);
        let called = Instant::now();
        let mut queued = called;
        let (new_weights, mut optimizer) = state;
        let outcome = result.map_err(Error::from).and_then(|out| {
            let mut out = out.into_iter();
            let loss = out
                .next()
                .ok_or(Error::Internal("the step returned no loss"))?;
            let flags = out.next();
            self.queue(checking, new_weights.iter().chain([&loss]).chain(&flags))?;
            queued = Instant::now();
            if let Some(flags) = &flags {
                self.check_finite(flags, &loss, &weights, &new_weights, &args)?;
            }
            *params = M::Params::from_weights(&mut new_weights.into_iter(), &self.graph.weights)
                .ok_or(Error::Internal(
                    "the step's parameters do not match the model's",
                ))?;
            Ok(StepOutput { loss })
        });
        let rolled_back = match (&outcome, saved) {
            (Err(_), Some(saved)) => optimizer_state::set(&mut optimizer, saved),
            _ => Ok(()),
        };
        self.optimizer = Some(optimizer);
        self.times = StepTimes {
            prepare: prepared - start,
            call: called - prepared,
            queue: queued - called,
            finish: queued.elapsed(),
        };
        rolled_back?;
        outcome
    }
}

/// What the update of a step needs besides the optimizer and the arrays.
struct UpdateRun<'a> {
    run: ObjectiveRun<'a>,
    group: &'a Group,
    /// The weights' paths: the optimizer's keys.
    keys: &'a [Rc<str>],
}

/// The loss and the weights after one update: the objective's gradients
/// (averaged over the group), the optimizer's update of each trainable
/// weight, the new values of the buffers.
fn update<O: Optimizer>(
    step: UpdateRun<'_>,
    optimizer: &mut O,
    weights: &[Array],
    inputs: &[Array],
    targets: &Array,
    key: &Array,
) -> Result<(Array, Vec<Array>), Exception> {
    let (loss, grads, buffer_values) = step
        .run
        .value_and_gradients(weights, inputs, targets, key)?;
    // Data-parallel: every process applies the same mean update. One
    // averaging for everything keeps the collectives per step few.
    let (loss, grads, buffer_values) = average_step(step.group, loss, grads, buffer_values)?;
    let trainable = step.run.trainable;
    let mut weights = weights.to_vec();
    for (&i, grad) in trainable.iter().zip(&grads) {
        optimizer.update_single(&step.keys[i], grad, &mut weights[i])?;
    }
    let buffers = (0..weights.len()).filter(|i| !trainable.contains(i));
    for (i, value) in buffers.zip(buffer_values) {
        weights[i] = value;
    }
    Ok((loss, weights))
}

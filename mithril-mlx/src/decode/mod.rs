//! Generation for causal language models written in `model!`: a prefill of
//! the prompts, then compiled one-token steps that read and extend a KV
//! cache, with greedy or seeded sampling, stop tokens, and batches of
//! prompts of different lengths (left-padded, masked).
//!
//! A model decodes when its inputs are `tokens: [B, T]` (int32 ids) and,
//! optionally, `positions: [T]` or `[B, T]`, and its output `logits:
//! [B, T, V]` (or its only output) scores the next token at every position.
//! Its causal attention layers (`MultiHeadAttention(.., causal = true)`,
//! `ScaledDotProductAttention(causal = true)`) keep their keys and values in
//! the cache; every other layer must treat positions independently (norms,
//! projections, MLPs, embeddings), as a transformer decoder's do.
//!
//! The cache grows in chunks of [`CHUNK`] positions, and a step writes its
//! keys and values at a slot given as an array, so a step is traced once per
//! cache size (a few per generation), not once per token.
//!
//! ```no_run
//! # use mithril_mlx::{MlxBackend, Model};
//! # use mithril_mlx::decode::{Decoder, GenerationConfig};
//! # fn demo<M: Model>(params: &M::Params) -> Result<(), mithril_mlx::Error> {
//! let backend = MlxBackend::builder().build()?;
//! let mut decoder = Decoder::<M>::new(params, &backend, 1024)?;
//! let out = decoder.generate(&[vec![464, 2068, 318]], &GenerationConfig::greedy(64))?;
//! println!("{:?} ({:.0} tokens/s)", out.tokens[0], out.decode_tokens_per_second());
//! # Ok(()) }
//! ```

mod cache;
mod sample;

use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mithril_core::graph::Graph;
use mlx_rs::ops::indexing::IndexOp;
use mlx_rs::{Array, Dtype};

pub use cache::CacheSlots;
pub use sample::Sampling;

use crate::backend::MlxBackend;
use crate::compile::{Program, program};
use crate::error::Result;
use crate::model::{Family, Model, Params};
use crate::run::{in_compute_dtype, run_graph_decoding};

/// Positions by which the cache grows: a step's trace serves this many
/// tokens, and attention reads at most this many empty slots.
pub const CHUNK: usize = 64;

/// Why a generation cannot run: each names what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum GenerationError {
    /// The model's inputs or outputs are not a causal language model's.
    #[error("model `{model}` does not decode: {reason}")]
    Layout {
        /// The model.
        model: String,
        /// What it lacks or has too much of.
        reason: String,
    },
    /// No prompts, or an empty one.
    #[error("{0}")]
    EmptyPrompt(String),
    /// A token id outside the model's vocabulary.
    #[error("prompt {row}, position {position}: token id {id} is not in the vocabulary of {vocab}")]
    UnknownToken {
        /// Which prompt.
        row: usize,
        /// Where in it.
        position: usize,
        /// The id.
        id: u32,
        /// The model's vocabulary size.
        vocab: usize,
    },
    /// A prompt and its new tokens that do not fit the model's context.
    #[error(
        "prompt {row} has {prompt} tokens and {new} new ones were asked for: \
         {} positions, more than the model's context of {context}",
        prompt + new
    )]
    TooLong {
        /// Which prompt.
        row: usize,
        /// Its tokens.
        prompt: usize,
        /// The new tokens asked for.
        new: usize,
        /// The model's context.
        context: usize,
    },
    /// A step whose tokens do not match the cache's batch.
    #[error("a step got {found} tokens for a cache of {batch} rows")]
    Batch {
        /// The cache's rows.
        batch: usize,
        /// Tokens given.
        found: usize,
    },
    /// A sampling setting that does not describe a distribution.
    #[error("sampling: `{setting}` is {found}; expected {expected}")]
    Setting {
        /// The setting.
        setting: &'static str,
        /// Its value.
        found: String,
        /// What it may be.
        expected: &'static str,
    },
}

/// What a generation produces, and how long it took.
#[derive(Clone, Debug)]
pub struct Generation {
    /// The new tokens of every prompt, up to and including its stop token.
    pub tokens: Vec<Vec<u32>>,
    /// Prompt tokens read (every row's, without padding).
    pub prompt_tokens: usize,
    /// From the call to the first new tokens (prefill and first choice).
    pub prefill: Duration,
    /// One-token steps run (each for every row).
    pub steps: usize,
    /// The steps' time, from the first new tokens to the last.
    pub decode: Duration,
}

impl Generation {
    /// Prompt tokens read per second of prefill.
    pub fn prefill_tokens_per_second(&self) -> f64 {
        self.prompt_tokens as f64 / self.prefill.as_secs_f64()
    }

    /// Tokens made per second of one-token steps (every row's).
    pub fn decode_tokens_per_second(&self) -> f64 {
        (self.steps * self.tokens.len()) as f64 / self.decode.as_secs_f64()
    }
}

/// How many tokens to make and how to choose them.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerationConfig {
    /// New tokens per prompt (fewer where a stop token comes first).
    pub max_new_tokens: usize,
    /// How each is chosen.
    pub sampling: Sampling,
    /// Tokens that end a prompt's continuation (kept as its last token).
    pub stop: Vec<u32>,
}

impl GenerationConfig {
    /// `max_new_tokens` most likely tokens, no stop tokens.
    pub fn greedy(max_new_tokens: usize) -> GenerationConfig {
        GenerationConfig {
            max_new_tokens,
            sampling: Sampling::Greedy,
            stop: Vec::new(),
        }
    }

    /// The same, chosen by `sampling`.
    pub fn sampling(self, sampling: Sampling) -> GenerationConfig {
        GenerationConfig { sampling, ..self }
    }

    /// The same, ending a continuation at any of `stop`.
    pub fn stop(self, stop: impl IntoIterator<Item = u32>) -> GenerationConfig {
        GenerationConfig {
            stop: stop.into_iter().collect(),
            ..self
        }
    }
}

/// The keys and values of every causal attention for a batch of sequences,
/// `capacity` positions each, of which `len` are filled (the prompts, left
/// padded to the longest, then one slot per step); it grows by [`CHUNK`]
/// positions when full.
pub struct KvCache {
    /// Keys, values, keys, ..: `[B, H, capacity, D]` each, in layer order.
    arrays: Vec<Array>,
    filled: usize,
    capacity: usize,
    /// Real (unpadded) tokens of each row so far: the next one's position.
    lengths: Vec<usize>,
    /// `[B]` int32: the padding slots at the start of each row.
    pads: Array,
    /// `0..capacity`, int32.
    slots: Array,
}

impl KvCache {
    /// Filled positions (padding included).
    pub fn len(&self) -> usize {
        self.filled
    }

    /// Whether no position is filled.
    pub fn is_empty(&self) -> bool {
        self.filled == 0
    }

    /// Positions it holds before it grows.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Each row's tokens so far, without padding.
    pub fn lengths(&self) -> &[usize] {
        &self.lengths
    }

    /// The keys and values of each causal attention, in the order the
    /// layers run: `[B, H, capacity, D]` each.
    pub fn layers(&self) -> impl Iterator<Item = (&Array, &Array)> {
        self.arrays.chunks(2).map(|kv| (&kv[0], &kv[1]))
    }

    /// Grows the cache by whole chunks until `t` more positions fit. Empty
    /// (before the prefill), it only takes the size: the run makes it.
    fn make_room(&mut self, t: usize) -> Result<(), mlx_rs::error::Exception> {
        let needed = self.filled + t;
        if needed <= self.capacity {
            return Ok(());
        }
        let capacity = needed.div_ceil(CHUNK) * CHUNK;
        for cache in &mut self.arrays {
            let s = cache.shape();
            let more = mlx_rs::ops::zeros_dtype(
                &[s[0], s[1], (capacity - self.capacity) as i32, s[3]],
                cache.dtype(),
            )?;
            *cache = mlx_rs::ops::concatenate(&[&*cache, &more], 2)?;
        }
        self.capacity = capacity;
        self.slots = Array::arange::<_, i32>(None, capacity as i32, None)?;
        Ok(())
    }
}

/// Where a model keeps what decoding reads and writes.
#[derive(Clone, Copy, Debug)]
struct Layout {
    tokens: usize,
    /// The `positions` input and whether it is per row (`[B, T]`).
    positions: Option<(usize, bool)>,
    logits: usize,
    vocab: usize,
}

impl Layout {
    fn of(graph: &Graph) -> Result<Layout, GenerationError> {
        let refuse = |reason: String| GenerationError::Layout {
            model: graph.name.clone(),
            reason,
        };
        let mut tokens = None;
        let mut positions = None;
        for (i, input) in graph.inputs.iter().enumerate() {
            match (input.name.as_str(), input.shape.rank()) {
                ("tokens", 2) => tokens = Some(i),
                ("positions", 1) => positions = Some((i, false)),
                ("positions", 2) => positions = Some((i, true)),
                (name, _) => {
                    return Err(refuse(format!(
                        "its input `{name}: {}` is not `tokens: [B, T]` or `positions: [T]` or `[B, T]`",
                        input.shape
                    )));
                }
            }
        }
        let tokens = tokens.ok_or_else(|| refuse("it has no input `tokens: [B, T]`".into()))?;
        let logits = match graph.outputs.iter().position(|o| o.name == "logits") {
            Some(i) => i,
            None if graph.outputs.len() == 1 => 0,
            None => return Err(refuse("it has several outputs and none is `logits`".into())),
        };
        let shape = &graph.outputs[logits].shape;
        let vocab = match (shape.rank(), shape.0.last().and_then(|d| d.as_lit())) {
            (3, Some(v)) => v,
            _ => {
                return Err(refuse(format!(
                    "its output `{}` is {shape}, not logits `[B, T, V]` with a known V",
                    graph.outputs[logits].name
                )));
            }
        };
        Ok(Layout {
            tokens,
            positions,
            logits,
            vocab,
        })
    }
}

/// Generates from a causal language model with a KV cache: a compiled
/// prefill, then compiled one-token steps (graph mode; eager otherwise).
///
/// The parameters are taken once, in the backend's compute dtype.
pub struct Decoder<M: Family> {
    backend: MlxBackend,
    graph: Arc<Graph>,
    weights: Vec<Array>,
    layout: Layout,
    context: usize,
    program: Program,
    traces: Rc<Cell<usize>>,
    model: PhantomData<M>,
}

impl<M: Model> Decoder<M> {
    /// A decoder of `M` with `params`, on `backend`, for sequences of at
    /// most `context` positions (the model's position table).
    pub fn new(params: &M::Params, backend: &MlxBackend, context: usize) -> Result<Decoder<M>> {
        Decoder::for_graph(Arc::clone(M::graph()), params, backend, context)
    }
}

impl<M: Family> Decoder<M> {
    /// A decoder of `graph` (a model's, or a family's instantiation's).
    pub(crate) fn for_graph(
        graph: Arc<Graph>,
        params: &M::Params,
        backend: &MlxBackend,
        context: usize,
    ) -> Result<Decoder<M>> {
        backend.activate();
        let layout = Layout::of(&graph)?;
        let weights = params.to_arrays();
        crate::run::check_params(&graph, &weights)?;
        // Cast once here rather than at every step.
        let options = backend.run_options(false);
        let weights = in_compute_dtype(&weights, &options)?;
        let traces = Rc::new(Cell::new(0));
        let counted = Rc::clone(&traces);
        let traced = Arc::clone(&graph);
        let program = program(backend.graph_mode(), move |args: &[Array]| {
            counted.set(counted.get() + 1);
            let (weights, rest) = args.split_at(traced.weights.len());
            let (inputs, rest) = rest.split_at(traced.inputs.len());
            let [offset, pads, slots] = &rest[..3] else {
                unreachable!("a decoding run has an offset, pads and slots")
            };
            let t = inputs[layout.tokens].shape()[1];
            let cache = CacheSlots::new(t, offset, pads, slots, rest[3..].to_vec())?;
            let (outputs, made) = run_graph_decoding(&traced, weights, inputs, &options, cache)?;
            // Only the last position's logits choose the next token.
            let last = outputs[layout.logits].index((.., -1, ..));
            Ok(std::iter::once(last).chain(made).collect())
        });
        Ok(Decoder {
            backend: backend.clone(),
            graph,
            weights,
            layout,
            context,
            program,
            traces,
            model: PhantomData,
        })
    }

    /// The model's vocabulary (the logits' last axis).
    pub fn vocab(&self) -> usize {
        self.layout.vocab
    }

    /// The longest sequence it decodes.
    pub fn context(&self) -> usize {
        self.context
    }

    /// How many times its runs were traced (graph mode): one for each new
    /// prompt shape and one for each cache size a one-token step meets (the
    /// cache grows by [`CHUNK`] positions), not one per token.
    pub fn traces(&self) -> usize {
        self.traces.get()
    }

    /// Runs the prompts (each non-empty, left-padded to the longest) and
    /// fills a cache with them; returns the next-token logits of each
    /// (`[B, V]`) and the cache.
    pub fn prefill<P: AsRef<[u32]>>(&mut self, prompts: &[P]) -> Result<(Array, KvCache)> {
        self.backend.activate();
        let prompts: Vec<&[u32]> = prompts.iter().map(AsRef::as_ref).collect();
        self.check_prompts(&prompts, 0)?;
        let batch = prompts.len();
        let width = prompts.iter().map(|p| p.len()).max().unwrap_or(0);
        let pads: Vec<usize> = prompts.iter().map(|p| width - p.len()).collect();
        // Padding reads token 0 (any id would do: it is masked out).
        let mut tokens = vec![0i32; batch * width];
        let mut positions = vec![0i32; batch * width];
        for (row, prompt) in prompts.iter().enumerate() {
            for (i, &id) in prompt.iter().enumerate() {
                tokens[row * width + pads[row] + i] = id as i32;
                positions[row * width + pads[row] + i] = i as i32;
            }
        }
        let mut cache = KvCache {
            arrays: Vec::new(),
            filled: 0,
            capacity: 0,
            lengths: vec![0; batch],
            pads: Array::from_slice(
                &pads.iter().map(|&p| p as i32).collect::<Vec<_>>(),
                &[batch as i32],
            ),
            slots: Array::from_slice::<i32>(&[], &[0]),
        };
        let tokens = Array::from_slice(&tokens, &[batch as i32, width as i32]);
        let logits = self.run(tokens, &positions, width, &mut cache)?;
        cache.lengths = prompts.iter().map(|p| p.len()).collect();
        Ok((logits, cache))
    }

    /// One token for every row of `cache` (`tokens[i]` continues row `i`):
    /// returns the next-token logits (`[B, V]`).
    pub fn step(&mut self, tokens: &[u32], cache: &mut KvCache) -> Result<Array> {
        self.backend.activate();
        if tokens.len() != cache.lengths.len() {
            return Err(GenerationError::Batch {
                batch: cache.lengths.len(),
                found: tokens.len(),
            }
            .into());
        }
        self.check_ids(
            tokens
                .iter()
                .copied()
                .enumerate()
                .map(|(row, id)| (row, cache.lengths[row], id)),
        )?;
        let ids: Vec<i32> = tokens.iter().map(|&t| t as i32).collect();
        self.step_array(&Array::from_slice(&ids, &[ids.len() as i32]), cache)
    }

    /// [`Decoder::step`] with the tokens as a `[B]` int32 array (on the
    /// device, as the previous step chose them: no wait for them).
    fn step_array(&mut self, tokens: &Array, cache: &mut KvCache) -> Result<Array> {
        if let Some(row) = cache.lengths.iter().position(|&n| n >= self.context) {
            return Err(GenerationError::TooLong {
                row,
                prompt: cache.lengths[row],
                new: 1,
                context: self.context,
            }
            .into());
        }
        let positions: Vec<i32> = cache.lengths.iter().map(|&n| n as i32).collect();
        let batch = positions.len() as i32;
        let logits = self.run(tokens.reshape(&[batch, 1])?, &positions, 1, cache)?;
        for n in &mut cache.lengths {
            *n += 1;
        }
        Ok(logits)
    }

    /// Runs `t` new positions of every row through the model at the
    /// cache's first free slot, and stores the extended cache.
    fn run(
        &mut self,
        tokens: Array,
        positions: &[i32],
        t: usize,
        cache: &mut KvCache,
    ) -> Result<Array> {
        let batch = cache.lengths.len() as i32;
        let mut inputs = vec![Array::from_int(0); self.graph.inputs.len()];
        inputs[self.layout.tokens] = tokens;
        if let Some((i, per_row)) = self.layout.positions {
            inputs[i] = match per_row {
                true => Array::from_slice(positions, &[batch, t as i32]),
                false => {
                    // One row of positions serves all only without padding.
                    if positions.chunks(t).any(|row| row != &positions[..t]) {
                        return Err(GenerationError::Layout {
                            model: self.graph.name.clone(),
                            reason: "its `positions` input is [T], shared by every row: \
                                     prompts of different lengths need `positions: [B, T]`"
                                .into(),
                        }
                        .into());
                    }
                    Array::from_slice(&positions[..t], &[t as i32])
                }
            };
        }
        cache.make_room(t)?;
        let mut args = self.weights.clone();
        args.extend(inputs);
        args.push(Array::from_slice(&[cache.filled as i32], &[1]));
        args.push(cache.pads.clone());
        args.push(cache.slots.clone());
        // The old caches leave the cache before the run is evaluated, so
        // MLX can write the new positions in place.
        args.extend(std::mem::take(&mut cache.arrays));
        let mut out = (self.program)(&args)?;
        drop(args);
        let logits = out.remove(0);
        cache.arrays = out;
        cache.filled += t;
        Ok(logits)
    }

    /// Generates a continuation of every prompt.
    pub fn generate<P: AsRef<[u32]>>(
        &mut self,
        prompts: &[P],
        config: &GenerationConfig,
    ) -> Result<Generation> {
        config.sampling.check()?;
        let started = Instant::now();
        let rows: Vec<&[u32]> = prompts.iter().map(AsRef::as_ref).collect();
        let new = config.max_new_tokens;
        self.check_prompts(&rows, new)?;
        let mut tokens: Vec<Vec<u32>> = vec![Vec::new(); rows.len()];
        if new == 0 {
            return Ok(Generation {
                tokens,
                prompt_tokens: 0,
                prefill: started.elapsed(),
                steps: 0,
                decode: Duration::ZERO,
            });
        }
        let mut keys = sample::Keys::new(&config.sampling)?;
        let (logits, mut cache) = self.prefill(&rows)?;
        let mut next = sample::choose(&logits, &config.sampling, &mut keys)?;
        next.eval()?;
        let prefill = started.elapsed();
        let mut done = vec![false; rows.len()];
        let mut steps = 0;
        for made in 1..=new {
            // Queue the step that reads these tokens before waiting for them.
            let following = match made < new {
                true => {
                    let logits = self.step_array(&next, &mut cache)?;
                    let chosen = sample::choose(&logits, &config.sampling, &mut keys)?;
                    mlx_rs::transforms::async_eval([&chosen])?;
                    steps += 1;
                    Some(chosen)
                }
                false => None,
            };
            let ids: Vec<i32> = next.as_dtype(Dtype::Int32)?.as_slice::<i32>().to_vec();
            for (row, &id) in ids.iter().enumerate() {
                if !done[row] {
                    tokens[row].push(id as u32);
                    done[row] = config.stop.contains(&(id as u32));
                }
            }
            match following {
                Some(chosen) if !done.iter().all(|&d| d) => next = chosen,
                _ => break,
            }
        }
        Ok(Generation {
            tokens,
            prompt_tokens: rows.iter().map(|p| p.len()).sum(),
            prefill,
            steps,
            decode: started.elapsed() - prefill,
        })
    }

    /// Non-empty prompts of known tokens that fit the context with `new`
    /// more tokens each.
    fn check_prompts(&self, prompts: &[&[u32]], new: usize) -> Result<(), GenerationError> {
        if prompts.is_empty() {
            return Err(GenerationError::EmptyPrompt("no prompts were given".into()));
        }
        for (row, prompt) in prompts.iter().enumerate() {
            if prompt.is_empty() {
                return Err(GenerationError::EmptyPrompt(format!(
                    "prompt {row} is empty: generation continues at least one token"
                )));
            }
            if prompt.len() + new > self.context {
                return Err(GenerationError::TooLong {
                    row,
                    prompt: prompt.len(),
                    new,
                    context: self.context,
                });
            }
        }
        self.check_ids(
            prompts
                .iter()
                .enumerate()
                .flat_map(|(row, p)| p.iter().enumerate().map(move |(i, &id)| (row, i, id))),
        )
    }

    fn check_ids(
        &self,
        ids: impl Iterator<Item = (usize, usize, u32)>,
    ) -> Result<(), GenerationError> {
        let vocab = self.layout.vocab;
        for (row, position, id) in ids {
            if id as usize >= vocab {
                return Err(GenerationError::UnknownToken {
                    row,
                    position,
                    id,
                    vocab,
                });
            }
        }
        Ok(())
    }
}

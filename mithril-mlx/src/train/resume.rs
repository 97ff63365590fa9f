//! Saving a trainer's whole run to a checkpoint, and continuing it: the
//! trainer's side of [`crate::checkpoint`].

use std::sync::Arc;

use crate::model::Family;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use mlx_rs::optimizers::Optimizer;
use mlx_rs::{Array, ops};
use safetensors::tensor::Dtype as StDtype;

use super::{Trainer, optimizer_state};
use crate::checkpoint::{self, Checkpoint, Contents, Entry, Progress};
use crate::error::{Error, Result};
use crate::io::{dtype_name, st_dtype, to_bytes};
use crate::model::Params;

/// The optimizer type a checkpoint records: Rust's name for it.
fn optimizer_name<O>() -> &'static str {
    std::any::type_name::<O>()
}

fn lost() -> Error {
    Error::Internal("the trainer's state was lost to an earlier panic")
}

/// A state entry's dtype and shape, as a checkpoint records them.
type Layout = BTreeMap<String, (Option<StDtype>, Vec<usize>)>;

impl<M: Family, O: Optimizer + 'static> Trainer<M, O> {
    /// Writes everything this run needs to continue exactly to `path`, in
    /// one file, atomically: `params` (parameters and buffers), the
    /// optimizer's state, the random key, the steps taken, `progress`
    /// (where the caller's loop is in its data, and its own entries), and
    /// the model's name and the optimizer's type for validation. A crash at
    /// any point leaves the previous checkpoint or the new one, never a mix
    /// (see [`crate::io::write_atomically`]). In a data-parallel run
    /// ([`Self::data_parallel`]) only rank 0 writes; the others return at once.
    pub fn save_checkpoint(
        &mut self,
        path: impl AsRef<Path>,
        params: &M::Params,
        progress: &Progress,
    ) -> Result<()> {
        // Data-parallel: every process holds the same run; one writes it.
        if !self.group.is_main() {
            return Ok(());
        }
        self.backend.activate();
        let shared = Arc::clone(&self.graph);
        let graph: &mithril_core::graph::Graph = &shared;
        let arrays = params.to_arrays();
        let mut param_bytes = Vec::with_capacity(arrays.len());
        for (w, a) in graph.weights.iter().zip(&arrays) {
            let found: Vec<usize> = a.shape().iter().map(|&d| d as usize).collect();
            if found != w.shape {
                return Err(Error::ParamShape {
                    path: w.path.clone(),
                    expected: w.shape.clone(),
                    found,
                });
            }
            let what = format!("parameter `{}`", w.path);
            param_bytes.push((w.path.clone(), to_bytes(&what, a)?));
        }
        let mut state_bytes = Vec::new();
        for (key, a) in self.optimizer_entries()? {
            let what = format!("optimizer state `{key}`");
            state_bytes.push((key.to_string(), to_bytes(&what, &a)?));
        }
        let contents = Contents {
            model: M::NAME,
            optimizer: optimizer_name::<O>(),
            steps: self.steps,
            progress,
            params: param_bytes,
            optimizer_state: state_bytes,
            key: to_bytes("the trainer's random key", &self.key)?,
        };
        checkpoint::write(path.as_ref(), contents)
    }
}

impl<M: Family, O: Optimizer + Clone + 'static> Trainer<M, O> {
    /// Continues the run `checkpoint` saved: sets `params`, the optimizer's
    /// state, the random key and the step count, and returns the saved
    /// [`Progress`] for the caller's loop to continue from.
    ///
    /// Everything is checked first and every mismatch is reported in one
    /// [`Error::CheckpointMismatch`]: the model's name, each parameter's
    /// name, shape and dtype (the backend's parameter dtype), the
    /// optimizer's type, and the optimizer state's keys, shapes and dtypes
    /// (against what this optimizer creates for this model). On any error
    /// neither the trainer nor `params` is changed. The optimizer's
    /// hyperparameters (learning rate, betas) are the ones this trainer was
    /// made with: mlx-rs keeps them outside the state.
    pub fn restore(&mut self, checkpoint: &Checkpoint, params: &mut M::Params) -> Result<Progress> {
        self.backend.activate();
        let shared = Arc::clone(&self.graph);
        let graph: &mithril_core::graph::Graph = &shared;
        let mismatch = |problems: Vec<String>| Error::CheckpointMismatch {
            path: checkpoint.path().to_path_buf(),
            model: M::NAME,
            problems,
        };
        let mut problems = Vec::new();
        if checkpoint.model() != M::NAME {
            problems.push(format!(
                "it is a checkpoint of model `{}`",
                checkpoint.model()
            ));
        }

        let param_dtype = st_dtype(self.backend.param_dtype().mlx());
        let mut saved: BTreeMap<&str, &Entry> = checkpoint
            .params()
            .iter()
            .map(|e| (e.name.as_str(), e))
            .collect();
        let mut entries = Vec::with_capacity(graph.weights.len());
        for w in &graph.weights {
            let Some(entry) = saved.remove(w.path.as_str()) else {
                problems.push(format!(
                    "parameter `{}` (shape {:?}) is missing",
                    w.path, w.shape
                ));
                continue;
            };
            if entry.shape != w.shape {
                problems.push(format!(
                    "parameter `{}`: expected shape {:?}, found {:?}",
                    w.path, w.shape, entry.shape
                ));
            }
            if Some(entry.dtype) != param_dtype {
                problems.push(format!(
                    "parameter `{}`: expected dtype {}, found {}",
                    w.path,
                    self.backend.param_dtype(),
                    dtype_name(entry.dtype)
                ));
            }
            entries.push(entry);
        }
        for (name, entry) in saved {
            problems.push(format!(
                "unexpected parameter `{name}` (shape {:?}, {})",
                entry.shape,
                dtype_name(entry.dtype)
            ));
        }

        let ours = optimizer_name::<O>();
        if checkpoint.optimizer() != ours {
            problems.push(format!(
                "its optimizer is `{}`, this trainer's is `{ours}`",
                checkpoint.optimizer()
            ));
        } else {
            // Before the first step an optimizer has no state yet.
            let expected = match checkpoint.steps() {
                0 => Layout::new(),
                _ => self.optimizer_layout()?,
            };
            problems.extend(layout_problems(&expected, checkpoint.optimizer_state()));
        }

        let key = checkpoint.key();
        if key.dtype != StDtype::U32 || key.shape != [2] {
            problems.push(format!(
                "the random key is {} with shape {:?}, expected u32 with shape [2]",
                dtype_name(key.dtype),
                key.shape
            ));
        }
        if !problems.is_empty() {
            return Err(mismatch(problems));
        }

        let arrays = entries
            .iter()
            .map(|e| checkpoint.array(e))
            .collect::<Result<Vec<_>>>()?;
        let state_entries = checkpoint
            .optimizer_state()
            .iter()
            .map(|e| Ok((Rc::from(e.name.as_str()), checkpoint.array(e)?)))
            .collect::<Result<Vec<_>>>()?;
        let optimizer_state = optimizer_state::from_entries::<O>(state_entries).map_err(|e| {
            mismatch(vec![format!(
                "the optimizer's state does not fit it: {}",
                e
            )])
        })?;
        let key = checkpoint.array(key)?;
        let restored = M::Params::from_weights(&mut arrays.into_iter(), &self.graph.weights)
            .ok_or_else(|| mismatch(vec!["parameter count does not match".into()]))?;

        // Everything checked: now replace.
        let optimizer = self.optimizer.as_mut().ok_or_else(lost)?;
        *optimizer.state_mut() = optimizer_state;
        self.flat = None;
        *params = restored;
        self.key = key;
        self.steps = checkpoint.steps();
        // A compiled step traced for another state layout cannot be reused;
        // the next step traces afresh (compiled, since steps > 0).
        self.compiled = None;
        Ok(checkpoint.progress().clone())
    }

    /// The keys, dtypes and shapes of the state this trainer's optimizer
    /// creates for this model: a clone of it, emptied, takes one update
    /// per parameter with zero gradients. MLX is lazy and shapes are known
    /// without evaluating, so this computes nothing.
    fn optimizer_layout(&self) -> Result<Layout> {
        let optimizer = self.optimizer.as_ref().ok_or_else(lost)?;
        let mut probe = optimizer.clone();
        optimizer_state::set(&mut probe, Vec::new())?;
        let shared = Arc::clone(&self.graph);
        let graph: &mithril_core::graph::Graph = &shared;
        let dtype = self.backend.param_dtype().mlx();
        for &i in self.trainable.iter() {
            let shape: Vec<i32> = graph.weights[i].shape.iter().map(|&d| d as i32).collect();
            let mut weight = Array::zeros::<f32>(&shape)?.as_dtype(dtype)?;
            let gradient = ops::zeros_like(&weight)?;
            probe.update_single(&self.keys[i], &gradient, &mut weight)?;
        }
        Ok(optimizer_state::entries(&mut probe)?
            .into_iter()
            .map(|(key, a)| {
                let shape = a.shape().iter().map(|&d| d as usize).collect();
                (key.to_string(), (st_dtype(a.dtype()), shape))
            })
            .collect())
    }
}

/// Every difference between the expected optimizer state and a checkpoint's.
fn layout_problems(expected: &Layout, saved: &[Entry]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut saved: BTreeMap<&str, &Entry> = saved.iter().map(|e| (e.name.as_str(), e)).collect();
    for (key, (dtype, shape)) in expected {
        let Some(entry) = saved.remove(key.as_str()) else {
            problems.push(format!(
                "optimizer state `{key}` (shape {shape:?}) is missing"
            ));
            continue;
        };
        if entry.shape != *shape || Some(entry.dtype) != *dtype {
            problems.push(format!(
                "optimizer state `{key}`: expected {} with shape {shape:?}, found {} with shape {:?}",
                dtype.map_or("an unsupported dtype".into(), dtype_name),
                dtype_name(entry.dtype),
                entry.shape
            ));
        }
    }
    for (key, entry) in saved {
        problems.push(format!(
            "unexpected optimizer state `{key}` (shape {:?})",
            entry.shape
        ));
    }
    problems
}

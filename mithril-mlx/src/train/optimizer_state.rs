//! An optimizer's state as named arrays and back, through mlx-rs's
//! `OptimizerState` flatten/unflatten: what a checkpoint stores, and what a
//! refused step restores.

use std::rc::Rc;

use mlx_rs::Array;
use mlx_rs::error::Exception;
use mlx_rs::optimizers::{Optimizer, OptimizerState};

use crate::error::{Error, Result};

/// The optimizer's state entries in mlx-rs's stable key order
/// (`fc1.weight.0`, `fc1.weight.1` for Adam's moments). The arrays are
/// shared, not copied.
pub(super) fn entries<O: Optimizer>(optimizer: &mut O) -> Result<Vec<(Rc<str>, Array)>, Exception> {
    Ok(optimizer
        .state_mut()
        .flatten()?
        .into_iter()
        .map(|(key, array)| (key, array.clone()))
        .collect())
}

/// The optimizer's state built from `entries` (what [`entries`] gave, or a
/// checkpoint's), without touching the optimizer; the error says why they
/// do not fit it.
pub(super) fn from_entries<O: Optimizer>(
    entries: Vec<(Rc<str>, Array)>,
) -> Result<O::State, String> {
    O::State::unflatten(entries).map_err(|e| e.to_string())
}

/// Replaces the optimizer's state with `entries`, which came from this
/// optimizer ([`entries`]) or are empty.
pub(super) fn set<O: Optimizer>(optimizer: &mut O, entries: Vec<(Rc<str>, Array)>) -> Result<()> {
    *optimizer.state_mut() = from_entries::<O>(entries)
        .map_err(|_| Error::Internal("an optimizer's own state did not fit it"))?;
    Ok(())
}

/// An optimizer's state as flat arrays under fixed keys (in [`entries`]'
/// order): what a compiled step takes as arguments and returns as outputs,
/// so that between compiled steps the state is never projected by key.
/// While a trainer holds one, it is the optimizer's state, and the
/// optimizer's own is empty until [`FlatState::entries`] are put back
/// ([`set`]).
#[derive(Clone, Debug)]
pub(super) struct FlatState {
    /// The keys, shared with the compiled step traced for them.
    pub(super) keys: Rc<[Rc<str>]>,
    /// One array per key.
    pub(super) arrays: Vec<Array>,
}

impl FlatState {
    /// The optimizer's state, flattened once and taken out of it (the
    /// optimizer keeps none, so no stale copy holds memory).
    pub(super) fn take<O: Optimizer>(optimizer: &mut O) -> Result<FlatState> {
        let (keys, arrays) = entries(optimizer)?.into_iter().unzip::<_, _, Vec<_>, _>();
        set(optimizer, Vec::new())?;
        Ok(FlatState {
            keys: keys.into(),
            arrays,
        })
    }

    /// The state as named arrays (shared, not copied).
    pub(super) fn entries(&self) -> Vec<(Rc<str>, Array)> {
        self.keys
            .iter()
            .cloned()
            .zip(self.arrays.iter().cloned())
            .collect()
    }
}

//! The KV cache inside a traced decoding run: what causal attention reads
//! and extends while a [`Decoder`](super::Decoder) runs the model.

use mlx_rs::error::Exception;
use mlx_rs::fast::{self, ScaledDotProductAttentionMask};
use mlx_rs::{Array, ops};

use crate::sys::slice_update_dynamic;

/// The keys and values of every causal attention of one decoding run, in
/// the order the layers run (one pair per application of a repeated block).
///
/// Each pair is `[B, H, capacity, D]`. A run writes its `T` new positions at
/// slot `offset` and attends over every slot through one mask, so the run's
/// shapes do not depend on how many positions are filled: a compiled step
/// is traced once for all of them.
pub struct CacheSlots {
    /// `[1]` int32: the slot of the run's first position.
    offset: Array,
    /// `[B, 1, T, capacity]` bool: which slots each new position reads.
    mask: Array,
    capacity: i32,
    /// The caches going in (none at prefill: they start as zeros).
    given: Vec<Array>,
    /// The caches coming out, in the same order.
    made: Vec<Array>,
}

impl CacheSlots {
    /// The slots for `t` new positions at `offset` (`[1]` int32), of rows
    /// whose first `pads` (`[B]` int32) slots are padding, over caches of
    /// `slots.len()` positions (`slots` is `0..capacity`, int32) that hold
    /// `given` (empty at prefill).
    ///
    /// A new position reads the filled slots up to itself, except padding;
    /// a padding position reads only itself, so every value stays finite.
    pub fn new(
        t: i32,
        offset: &Array,
        pads: &Array,
        slots: &Array,
        given: Vec<Array>,
    ) -> Result<CacheSlots, Exception> {
        let capacity = slots.shape()[0];
        let keys = slots.reshape(&[1, 1, 1, capacity])?;
        let queries = Array::arange::<_, i32>(None, t, None)?
            .add(offset)?
            .reshape(&[1, 1, t, 1])?;
        let pads = pads.reshape(&[-1, 1, 1, 1])?;
        let earlier = keys.le(&queries)?;
        let not_padding = keys.ge(&pads)?.logical_or(&keys.eq(&queries)?)?;
        Ok(CacheSlots {
            offset: offset.clone(),
            mask: earlier.logical_and(&not_padding)?,
            capacity,
            given,
            made: Vec::new(),
        })
    }

    /// Causal attention of `queries` over the cache extended with `keys` and
    /// `values` (all `[B, H, T, D]`), with scale `scale`.
    pub fn attend(
        &mut self,
        queries: &Array,
        keys: &Array,
        values: &Array,
        scale: f32,
    ) -> Result<Array, Exception> {
        let [k, v] = [keys, values].map(|new| -> Result<Array, Exception> {
            let cache = match self.given.get(self.made.len()) {
                Some(cache) => cache.clone(),
                None => {
                    let s = new.shape();
                    ops::zeros_dtype(&[s[0], s[1], self.capacity, s[3]], new.dtype())?
                }
            };
            let cache =
                slice_update_dynamic(&cache, &new.as_dtype(cache.dtype())?, &self.offset, &[2])?;
            self.made.push(cache.clone());
            Ok(cache)
        });
        let (k, v) = (k?, v?);
        fast::scaled_dot_product_attention(
            queries,
            &k,
            &v,
            scale,
            ScaledDotProductAttentionMask::Array(&self.mask),
            None,
        )
    }

    /// The caches the run made, in the order the layers ran.
    pub fn into_made(self) -> Vec<Array> {
        self.made
    }
}

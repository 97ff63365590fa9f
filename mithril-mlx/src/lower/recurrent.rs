//! `Lstm` and `Gru` (mithril-core's `layers/recurrent.rs`), written as
//! mlx.nn writes them and unrolled over the (concrete) steps.

use mithril_core::layers::{Gru, Lstm};
use mlx_rs::Array;
use mlx_rs::error::Exception;
use mlx_rs::ops::{self, indexing::IndexOp};

use super::{Call, Lower, linear};

impl Lower for Lstm {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        lstm(self, call.x(), call.weights, call.out_shape)
    }
}

impl Lower for Gru {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        gru(self, call.x(), call.weights, call.out_shape)
    }
}

/// Stacks per-step states [B, hidden] into [B, T, hidden]; an empty sequence
/// gives zeros of `out_shape`.
fn stack_steps(steps: &[Array], like: &Array, out_shape: &[i32]) -> Result<Array, Exception> {
    if steps.is_empty() {
        return ops::zeros_dtype(out_shape, like.dtype());
    }
    ops::stack(steps, 1)
}

/// mlx.nn.LSTM.__call__ without initial states, unrolled over the (concrete) steps.
fn lstm(layer: &Lstm, x: &Array, weights: &[Array], out_shape: &[i32]) -> Result<Array, Exception> {
    let (wx, wh) = (&weights[0], &weights[1]);
    let xw = linear(x, wx, layer.bias.then(|| &weights[2]))?;
    let steps = x.shape()[1];
    let wh_t = wh.t();
    let mut hidden: Option<Array> = None;
    let mut cell: Option<Array> = None;
    let mut all = Vec::with_capacity(steps as usize);
    for t in 0..steps {
        let mut ifgo = xw.index((.., t, ..));
        if let Some(h) = &hidden {
            ifgo = ops::addmm(&ifgo, h, &wh_t, None, None)?;
        }
        let gates = ifgo.split_equal(4, -1)?;
        let i = ops::sigmoid(&gates[0])?;
        let f = ops::sigmoid(&gates[1])?;
        let g = ops::tanh(&gates[2])?;
        let o = ops::sigmoid(&gates[3])?;
        let c = match &cell {
            Some(c) => f.multiply(c)?.add(i.multiply(&g)?)?,
            None => i.multiply(&g)?,
        };
        let h = o.multiply(ops::tanh(&c)?)?;
        all.push(h.clone());
        hidden = Some(h);
        cell = Some(c);
    }
    stack_steps(&all, &xw, out_shape)
}

/// mlx.nn.GRU.__call__ without an initial state, unrolled over the (concrete) steps.
fn gru(layer: &Gru, x: &Array, weights: &[Array], out_shape: &[i32]) -> Result<Array, Exception> {
    let n_hidden = layer.hidden as i32;
    let (wx, wh) = (&weights[0], &weights[1]);
    let (b, bhn) = if layer.bias {
        (Some(&weights[2]), Some(&weights[3]))
    } else {
        (None, None)
    };
    let xw = linear(x, wx, b)?;
    let x_rz = xw.index((.., .., ..2 * n_hidden));
    let x_n = xw.index((.., .., 2 * n_hidden..));
    let steps = x.shape()[1];
    let wh_t = wh.t();
    let one = Array::from_f32(1.0).as_dtype(xw.dtype())?;
    let mut hidden: Option<Array> = None;
    let mut all = Vec::with_capacity(steps as usize);
    for t in 0..steps {
        let mut rz = x_rz.index((.., t, ..));
        let mut h_proj_n = None;
        if let Some(h) = &hidden {
            let h_proj = ops::matmul(h, &wh_t)?;
            let h_rz = h_proj.index((.., ..2 * n_hidden));
            let mut h_n = h_proj.index((.., 2 * n_hidden..));
            if let Some(bhn) = bhn {
                h_n = h_n.add(bhn)?;
            }
            rz = rz.add(&h_rz)?;
            h_proj_n = Some(h_n);
        }
        let rz = ops::sigmoid(&rz)?;
        // Slices rather than mlx.nn's `mx.split(rz, 2)` (the same values): a
        // compiled function that runs a split GRU both outside and inside a
        // vjp (as `evaluate_with_gradients` does) fails in MLX 0.32.2's
        // compile with `_Map_base::at`, from Python too.
        let r = &rz.index((.., ..n_hidden));
        let z = &rz.index((.., n_hidden..));
        let mut n = x_n.index((.., t, ..));
        if let Some(h_n) = &h_proj_n {
            n = n.add(r.multiply(h_n)?)?;
        } else if let Some(bhn) = bhn {
            n = n.add(r.multiply(bhn)?)?;
        }
        let n = ops::tanh(&n)?;
        let one_minus_z = one.subtract(z)?;
        let h = match &hidden {
            Some(h) => one_minus_z.multiply(&n)?.add(z.multiply(h)?)?,
            None => one_minus_z.multiply(&n)?,
        };
        all.push(h.clone());
        hidden = Some(h);
    }
    stack_steps(&all, &xw, out_shape)
}

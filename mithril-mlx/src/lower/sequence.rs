//! Lowerings of the attention and recurrent layers (mithril-core's
//! `layers::attention` and `layers::recurrent`), written as mlx.nn writes them.

use mithril_core::layers::{Gru, Lstm, MultiHeadAttention, Rope, ScaledDotProductAttention};
use mlx_rs::Array;
use mlx_rs::error::Exception;
use mlx_rs::fast::{self, ScaledDotProductAttentionMask};
use mlx_rs::ops::{self, indexing::IndexOp};

/// mx.fast.scaled_dot_product_attention with scale `1 / sqrt(D)`.
fn attention(q: &Array, k: &Array, v: &Array, causal: bool) -> Result<Array, Exception> {
    let d = q.shape()[q.ndim() - 1];
    let scale = (1.0 / d as f64).sqrt() as f32;
    let mask = causal.then_some(ScaledDotProductAttentionMask::Causal);
    fast::scaled_dot_product_attention(q, k, v, scale, mask, None)
}

/// `ScaledDotProductAttention`: q [B, H, T, D], k [B, H, S, D], v [B, H, S, Dv].
pub fn sdpa(layer: &ScaledDotProductAttention, inputs: &[&Array]) -> Result<Array, Exception> {
    attention(inputs[0], inputs[1], inputs[2], layer.causal)
}

/// `x W^T (+ b)`, mlx.nn.Linear.
fn linear(x: &Array, weight: &Array, bias: Option<&Array>) -> Result<Array, Exception> {
    match bias {
        Some(b) => ops::addmm(b, x, weight.t(), None, None),
        None => ops::matmul(x, weight.t()),
    }
}

/// mlx.nn.MultiHeadAttention.__call__, with `mask = "causal"` when causal.
pub fn multi_head(
    layer: &MultiHeadAttention,
    inputs: &[&Array],
    weights: &[Array],
) -> Result<Array, Exception> {
    let (q, k, v) = match inputs {
        [x] => (*x, *x, *x),
        [q, k, v] => (*q, *k, *v),
        _ => {
            return Err(Exception::custom(format!(
                "`MultiHeadAttention` got {} inputs",
                inputs.len()
            )));
        }
    };
    // weight, [bias] per projection: query, key, value, out.
    let per = if layer.bias { 2 } else { 1 };
    let proj = |i: usize, x: &Array| {
        let w = &weights[i * per..(i + 1) * per];
        linear(x, &w[0], w.get(1))
    };
    let heads = layer.heads as i32;
    // [B, L, dims] -> [B, heads, L, dims / heads]
    let split_heads = |x: Array| -> Result<Array, Exception> {
        let s = x.shape();
        x.reshape(&[s[0], s[1], heads, -1])?
            .transpose_axes(&[0, 2, 1, 3])
    };
    let queries = split_heads(proj(0, q)?)?;
    let keys = split_heads(proj(1, k)?)?;
    let values = split_heads(proj(2, v)?)?;
    let out = attention(&queries, &keys, &values, layer.causal)?;
    let s = out.shape();
    let merged = out
        .transpose_axes(&[0, 2, 1, 3])?
        .reshape(&[s[0], s[2], s[1] * s[3]])?;
    proj(3, &merged)
}

/// mlx.nn.RoPE with offset 0.
pub fn rope(layer: &Rope, x: &Array) -> Result<Array, Exception> {
    fast::rope(
        x,
        layer.dims as i32,
        layer.traditional,
        Some(layer.base as f32),
        layer.scale as f32,
        0,
        None,
    )
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
pub fn lstm(
    layer: &Lstm,
    x: &Array,
    weights: &[Array],
    out_shape: &[i32],
) -> Result<Array, Exception> {
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
pub fn gru(
    layer: &Gru,
    x: &Array,
    weights: &[Array],
    out_shape: &[i32],
) -> Result<Array, Exception> {
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

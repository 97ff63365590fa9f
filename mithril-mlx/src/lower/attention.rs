//! The attention layers and RoPE (mithril-core's `layers/attention.rs`),
//! written as mlx.nn writes them.

use mithril_core::layers::{MultiHeadAttention, Rope, ScaledDotProductAttention};
use mlx_rs::Array;
use mlx_rs::error::Exception;
use mlx_rs::fast::{self, ScaledDotProductAttentionMask};

use super::{Call, Lower, LowerCtx, linear, refuse};
use crate::error::{Error, raise};

/// mx.fast.scaled_dot_product_attention with scale `1 / sqrt(D)`; while
/// decoding, causal attention reads and extends the KV cache instead.
fn attention(
    ctx: &mut LowerCtx,
    q: &Array,
    k: &Array,
    v: &Array,
    causal: bool,
) -> Result<Array, Exception> {
    let d = q.shape()[q.ndim() - 1];
    let scale = (1.0 / d as f64).sqrt() as f32;
    match ctx.cache.as_mut() {
        Some(cache) if causal => cache.attend(q, k, v, scale),
        _ => {
            let mask = causal.then_some(ScaledDotProductAttentionMask::Causal);
            fast::scaled_dot_product_attention(q, k, v, scale, mask, None)
        }
    }
}

/// q [B, H, T, D], k [B, H, S, D], v [B, H, S, Dv].
impl Lower for ScaledDotProductAttention {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        let (q, k, v) = (call.x(), call.inputs[1], call.inputs[2]);
        attention(call.ctx, q, k, v, self.causal)
    }
}

/// mlx.nn.MultiHeadAttention.__call__, with `mask = "causal"` when causal.
impl Lower for MultiHeadAttention {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        if call.ctx.cache.is_some() && !self.causal && call.inputs.len() == 1 {
            // One new token at a time would see only itself.
            return Err(refuse(
                "attends to later positions too, so it cannot decode one token at a time \
                 with a KV cache: write `causal = true`",
            ));
        }
        multi_head(self, call.inputs, call.weights, call.ctx)
    }
}

fn multi_head(
    layer: &MultiHeadAttention,
    inputs: &[&Array],
    weights: &[Array],
    ctx: &mut LowerCtx,
) -> Result<Array, Exception> {
    let (q, k, v) = match inputs {
        [x] => (*x, *x, *x),
        [q, k, v] => (*q, *k, *v),
        _ => {
            return Err(refuse(format!(
                "takes 1 input (self-attention) or 3 (query, key, value), got {}",
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
    let (queries, keys, values) = match inputs {
        // Self-attention: one matrix product with the three projections
        // side by side (as GPT-2's `c_attn`), the same numbers as three.
        [x] if fuse_projections(x, layer.dims) => {
            let part = |i: usize, j: usize| &weights[i * per + j];
            let w = mlx_rs::ops::concatenate(&[part(0, 0), part(1, 0), part(2, 0)], 0)?;
            let b = match layer.bias {
                true => Some(mlx_rs::ops::concatenate(
                    &[part(0, 1), part(1, 1), part(2, 1)],
                    0,
                )?),
                false => None,
            };
            let (dq, dk) = (part(0, 0).shape()[0], part(1, 0).shape()[0]);
            let qkv = linear(x, &w, b.as_ref())?.split_at_indices(&[dq, dq + dk], -1)?;
            let [q, k, v] = <[Array; 3]>::try_from(qkv).map_err(|_| {
                raise(Error::Internal(
                    "the fused projections did not split in three",
                ))
            })?;
            (split_heads(q)?, split_heads(k)?, split_heads(v)?)
        }
        _ => (
            split_heads(proj(0, q)?)?,
            split_heads(proj(1, k)?)?,
            split_heads(proj(2, v)?)?,
        ),
    };
    let out = attention(ctx, &queries, &keys, &values, layer.causal)?;
    let s = out.shape();
    let merged = out
        .transpose_axes(&[0, 2, 1, 3])?
        .reshape(&[s[0], s[2], s[1] * s[3]])?;
    proj(3, &merged)
}

/// Whether self-attention multiplies by its three projections side by side
/// (one matrix product) rather than one by one. On the GPU, where a kernel
/// launch costs more than copying the weights side by side, always; on the
/// CPU only over many rows, since over few (a decoding step, a short prompt)
/// the copy costs about as much as the products.
fn fuse_projections(x: &Array, dims: usize) -> bool {
    let on_gpu = mlx_rs::Device::try_default()
        .and_then(|d| d.get_type())
        .is_ok_and(|t| matches!(t, mlx_rs::DeviceType::Gpu));
    let s = x.shape();
    let rows: i32 = s[..s.len() - 1].iter().product();
    on_gpu || rows >= 4 * dims as i32
}

/// mlx.nn.RoPE with offset 0.
impl Lower for Rope {
    fn lower(&self, call: &mut Call<'_>) -> Result<Array, Exception> {
        if call.ctx.cache.is_some() {
            // Its positions would restart at 0 for every new token.
            return Err(refuse(
                "rotates by position from 0 and does not yet decode with a KV cache",
            ));
        }
        fast::rope(
            call.x(),
            self.dims as i32,
            self.traditional,
            Some(self.base as f32),
            self.scale as f32,
            0,
            None,
        )
    }
}

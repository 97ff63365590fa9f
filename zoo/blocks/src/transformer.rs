//! A pre-norm transformer block, built from this crate's `blocks` module.

use crate::blocks::Mlp;

mithril::model! {
    /// Self-attention and an `Mlp`, each behind a layer norm and a residual
    /// connection; keeps its input's shape, so it repeats.
    pub TransformerBlock {
        input x: [B, T, 32];
        x -> norm1: LayerNorm -> attn: MultiHeadAttention(32, 4, causal = true) => a;
        Add(x, a) => h;
        h -> norm2: LayerNorm -> mlp: Mlp => m;
        Add(h, m) => y;
        output y;
    }
}

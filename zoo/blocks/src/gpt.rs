//! GPT-2 in `model!`, written once: token and position embeddings, pre-norm
//! blocks (LayerNorm, causal multi-head attention, LayerNorm, MLP with
//! GELU), a final LayerNorm and an LM head tied to the token embedding
//! (`share`).
//!
//! [`Gpt2`] is the family (Mithril's `create_gpt(bias, block_size, dims,
//! num_heads, num_layers, vocab_size)`); its instances are GPT-2 small,
//! medium, large and XL with the published 50,257-token vocabulary and
//! context 1,024, [`Gpt2SmallPadded`] (GPT-2 small with the vocabulary
//! padded to 50,304, a multiple of 64, as nanoGPT does: the GPU
//! benchmark's model), [`GptSmall`] (4 blocks of 256, context 256: a
//! launch-bound size) and [`GptTiny`] (2 blocks of 64, vocabulary 512,
//! context 64: CPU tests). Parameter paths follow GPT-2's names where
//! mlx.nn allows: `wte.weight`, `h.3.attn.query_proj.weight`, `ln_f.bias`.
//!
//! ```
//! use mithril_zoo::gpt::{Gpt2Medium, Gpt2Small};
//! assert_eq!(Gpt2Small::PARAMETER_COUNT, 124_439_808);
//! assert_eq!(Gpt2Medium::OUTPUT_SHAPES, &[("logits", "[B, T, 50257]")]);
//! ```

mithril::model! {
    /// GPT-2's block at width `d`: `heads` causal heads, an MLP of `4 * d`.
    pub Block(d: usize, heads: usize) {
        input x: [B, T, d];
        x -> ln_1: LayerNorm -> attn: MultiHeadAttention(d, heads, causal = true, bias = true) => a;
        Add(x, a) => h;
        h -> ln_2: LayerNorm -> fc: Linear(4 * d) -> GeluApprox -> proj: Linear(d) => m;
        Add(h, m) => y;
        output y;
    }

    /// GPT-2: next-token logits at every position of `tokens` (`positions`
    /// holds `0..T`, at most `context`).
    pub Gpt2(vocab: usize = 50257, context: usize = 1024, d: usize, heads: usize, layers: usize) {
        input tokens: [B, T], positions: [T];
        tokens -> wte: Embedding(vocab, d) => token_vectors;
        positions -> wpe: Embedding(context, d) => position_vectors;
        Add(token_vectors, position_vectors) -> h: Block(d, heads) * layers -> ln_f: LayerNorm
            -> lm_head: Linear(vocab, bias = false) => logits;
        share lm_head.weight = wte.weight;
        output logits;
    }

    /// GPT-2 small: 12 blocks of 768, 12 heads (124,439,808 parameters).
    pub Gpt2Small = Gpt2(d = 768, heads = 12, layers = 12);
    /// GPT-2 medium: 24 blocks of 1,024, 16 heads (354,823,168 parameters).
    pub Gpt2Medium = Gpt2(d = 1024, heads = 16, layers = 24);
    /// GPT-2 large: 36 blocks of 1,280, 20 heads (774,030,080 parameters).
    pub Gpt2Large = Gpt2(d = 1280, heads = 20, layers = 36);
    /// GPT-2 XL: 48 blocks of 1,600, 25 heads (1,557,611,200 parameters).
    pub Gpt2Xl = Gpt2(d = 1600, heads = 25, layers = 48);
    /// GPT-2 small with the vocabulary padded to 50,304 (124,475,904
    /// parameters): the GPU benchmark's model.
    pub Gpt2SmallPadded = Gpt2(vocab = 50304, d = 768, heads = 12, layers = 12);
    /// 4 blocks of 256 over GPT-2's padded vocabulary, context 256.
    pub GptSmall = Gpt2(vocab = 50304, context = 256, d = 256, heads = 4, layers = 4);
    /// 2 blocks of 64, vocabulary 512, context 64: the same design at CPU size.
    pub GptTiny = Gpt2(vocab = 512, context = 64, d = 64, heads = 2, layers = 2);
}

/// Hugging Face's `GPT2LMHeadModel` checkpoint names (`transformer.h.3.attn.c_attn.weight`)
/// and this family's parameter paths, both ways: its `Conv1D` weights are
/// stored `in × out` (transposed here), its fused `c_attn` holds the query,
/// key and value projections side by side, its LM head is the token
/// embedding (tied), and its attention masks are buffers the model does
/// not read.
///
/// ```no_run
/// use mithril::DType;
/// use mithril_zoo::gpt::{hugging_face, Gpt2Small};
/// # fn main() -> Result<(), mithril::Error> {
/// let params = hugging_face().import::<Gpt2Small>("gpt2/model.safetensors", DType::F32)?;
/// # Ok(()) }
/// ```
pub fn hugging_face() -> mithril::mapping::Mapping {
    let mut mapping = mithril::mapping::Mapping::new()
        .rename("transformer.wte.weight", "wte.weight")
        .rename("transformer.wpe.weight", "wpe.weight")
        .split_transposed(
            "transformer.h.{i}.attn.c_attn.weight",
            1,
            &[
                "h.{i}.attn.query_proj.weight",
                "h.{i}.attn.key_proj.weight",
                "h.{i}.attn.value_proj.weight",
            ],
        )
        .split(
            "transformer.h.{i}.attn.c_attn.bias",
            0,
            &[
                "h.{i}.attn.query_proj.bias",
                "h.{i}.attn.key_proj.bias",
                "h.{i}.attn.value_proj.bias",
            ],
        )
        .transposed(
            "transformer.h.{i}.attn.c_proj.weight",
            "h.{i}.attn.out_proj.weight",
        )
        .rename(
            "transformer.h.{i}.attn.c_proj.bias",
            "h.{i}.attn.out_proj.bias",
        )
        .transposed("transformer.h.{i}.mlp.c_fc.weight", "h.{i}.fc.weight")
        .rename("transformer.h.{i}.mlp.c_fc.bias", "h.{i}.fc.bias")
        .transposed("transformer.h.{i}.mlp.c_proj.weight", "h.{i}.proj.weight")
        .rename("transformer.h.{i}.mlp.c_proj.bias", "h.{i}.proj.bias")
        .tied("lm_head.weight", "wte.weight")
        .skip("transformer.h.{i}.attn.bias")
        .skip("transformer.h.{i}.attn.masked_bias");
    for norm in ["ln_1", "ln_2"] {
        for part in ["weight", "bias"] {
            mapping = mapping.rename(
                &format!("transformer.h.{{i}}.{norm}.{part}"),
                &format!("h.{{i}}.{norm}.{part}"),
            );
        }
    }
    mapping
        .rename("transformer.ln_f.weight", "ln_f.weight")
        .rename("transformer.ln_f.bias", "ln_f.bias")
}

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
//! context 64: CPU tests). [`Gpt2Checkpointed`] is the same family with its
//! blocks recomputed in the backward pass (less memory for more compute),
//! with the same instances (`Gpt2SmallPaddedCheckpointed`, ...). Parameter
//! paths follow GPT-2's names where mlx.nn allows: `wte.weight`,
//! `h.3.attn.query_proj.weight`, `ln_f.bias`.
//!
//! ```
//! use mithril_zoo::gpt::{Gpt2Medium, Gpt2Small};
//! assert_eq!(Gpt2Small::PARAMETER_COUNT, 124_439_808);
//! assert_eq!(Gpt2Medium::OUTPUT_SHAPES, &[("logits", "[B, T, 50257]")]);
//! ```

use crate::config::ConfigJson;

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

    /// GPT-2: next-token logits at every position of `tokens`. `positions`
    /// holds each token's place in its sequence, below `context`: `0..T` in
    /// every row, or, for a batch of left-padded prompts, each row's own
    /// count (transformers' `position_ids`).
    pub Gpt2(vocab: usize = 50257, context: usize = 1024, d: usize, heads: usize, layers: usize) {
        input tokens: [B, T], positions: [B, T];
        tokens -> wte: Embedding(vocab, d) => token_vectors;
        positions -> wpe: Embedding(context, d) => position_vectors;
        Add(token_vectors, position_vectors) -> h: Block(d, heads) * layers -> ln_f: LayerNorm
            -> lm_head: Linear(vocab, bias = false) => logits;
        share lm_head.weight = wte.weight;
        output logits;
    }

    /// [`Gpt2`] with every block recomputed in the backward pass
    /// (`checkpoint`): the same parameters, outputs and gradients, with
    /// only the blocks' inputs kept for the backward pass instead of all
    /// their activations, for one more forward of the blocks per step.
    pub Gpt2Checkpointed(vocab: usize = 50257, context: usize = 1024, d: usize, heads: usize, layers: usize) {
        input tokens: [B, T], positions: [B, T];
        tokens -> wte: Embedding(vocab, d) => token_vectors;
        positions -> wpe: Embedding(context, d) => position_vectors;
        Add(token_vectors, position_vectors) -> checkpoint h: Block(d, heads) * layers
            -> ln_f: LayerNorm -> lm_head: Linear(vocab, bias = false) => logits;
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
    /// [`Gpt2Small`] with its blocks recomputed in the backward pass.
    pub Gpt2SmallCheckpointed = Gpt2Checkpointed(d = 768, heads = 12, layers = 12);
    /// [`Gpt2SmallPadded`] with its blocks recomputed in the backward pass.
    pub Gpt2SmallPaddedCheckpointed =
        Gpt2Checkpointed(vocab = 50304, d = 768, heads = 12, layers = 12);
    /// [`GptSmall`] with its blocks recomputed in the backward pass.
    pub GptSmallCheckpointed =
        Gpt2Checkpointed(vocab = 50304, context = 256, d = 256, heads = 4, layers = 4);
    /// [`GptTiny`] with its blocks recomputed in the backward pass.
    pub GptTinyCheckpointed =
        Gpt2Checkpointed(vocab = 512, context = 64, d = 64, heads = 2, layers = 2);
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

pub use crate::config::ConfigError;

/// The [`Gpt2Config`] that Hugging Face's GPT-2 `config.json` describes
/// (`vocab_size`, `n_positions`, `n_embd`, `n_head`, `n_layer`), for
/// [`Gpt2::instance`]; settings the family does not model (an activation
/// other than `gelu_new`, a layer-norm epsilon other than 1e-5) are errors.
pub fn config_from_hugging_face(json: &str) -> Result<Gpt2Config, ConfigError> {
    let config = ConfigJson::parse("GPT-2", json)?;
    config.only(
        "activation_function",
        "\"gelu_new\" (GELU, tanh approximation)",
        |v| v.as_str() == Some("gelu_new"),
    )?;
    config.only("layer_norm_epsilon", "1e-5", |v| {
        v.as_f64().is_some_and(|e| (e - 1e-5).abs() <= 1e-12)
    })?;
    config.only("scale_attn_by_inverse_layer_idx", "false", |v| {
        v.as_bool() == Some(false)
    })?;
    config.only("reorder_and_upcast_attn", "false", |v| {
        v.as_bool() == Some(false)
    })?;
    config.only("tie_word_embeddings", "true", |v| v.as_bool() == Some(true))?;
    let d = config.size("n_embd")?;
    config.only(
        "n_inner",
        "an MLP 4 times as wide as the model (null)",
        |v| v.is_null() || v.as_u64() == Some(4 * d as u64),
    )?;
    Ok(Gpt2Config {
        vocab: config.size("vocab_size")?,
        context: config.size("n_positions")?,
        d,
        heads: config.size("n_head")?,
        layers: config.size("n_layer")?,
    })
}

//! GPT-2 in `model!`: token and position embeddings, pre-norm blocks
//! (LayerNorm, causal multi-head attention, LayerNorm, MLP with GELU),
//! a final LayerNorm and an LM head tied to the token embedding (`share`).
//!
//! Three sizes of one design: [`Gpt2Small`] (GPT-2 small: 12 blocks of
//! width 768, 12 heads of 64, MLP 3,072, vocabulary 50,304 (50,257 padded to
//! a multiple of 64, as nanoGPT does), context 1,024; 124,475,904
//! parameters), [`GptSmall`] (4 blocks of 256, context 256: a launch-bound
//! size) and [`GptTiny`] (2 blocks of 64, vocabulary 512, context 64: CPU
//! tests). Parameter paths follow GPT-2's names where mlx.nn allows:
//! `wte.weight`, `h.3.attn.query_proj.weight`, `ln_f.bias`.
//!
//! ```
//! use mithril_zoo::gpt::Gpt2Small;
//! assert_eq!(Gpt2Small::PARAMETER_COUNT, 124_475_904);
//! assert_eq!(Gpt2Small::OUTPUT_SHAPES, &[("logits", "[B, T, 50304]")]);
//! ```

mithril::model! {
    /// GPT-2's block at width 768: 12 causal heads of 64, MLP 3,072.
    pub Block768 {
        input x: [B, T, 768];
        x -> ln_1: LayerNorm -> attn: MultiHeadAttention(768, 12, causal = true, bias = true) => a;
        Add(x, a) => h;
        h -> ln_2: LayerNorm -> fc: Linear(3072) -> GeluApprox -> proj: Linear(768) => m;
        Add(h, m) => y;
        output y;
    }

    /// GPT-2 small: next-token logits at every position of `tokens`
    /// (`positions` holds `0..T`).
    pub Gpt2Small {
        input tokens: [B, T], positions: [T];
        tokens -> wte: Embedding(50304, 768) => token_vectors;
        positions -> wpe: Embedding(1024, 768) => position_vectors;
        Add(token_vectors, position_vectors) -> h: Block768 * 12 -> ln_f: LayerNorm
            -> lm_head: Linear(50304, bias = false) => logits;
        share lm_head.weight = wte.weight;
        output logits;
    }

    /// The block at width 256: 4 causal heads of 64, MLP 1,024.
    pub Block256 {
        input x: [B, T, 256];
        x -> ln_1: LayerNorm -> attn: MultiHeadAttention(256, 4, causal = true, bias = true) => a;
        Add(x, a) => h;
        h -> ln_2: LayerNorm -> fc: Linear(1024) -> GeluApprox -> proj: Linear(256) => m;
        Add(h, m) => y;
        output y;
    }

    /// 4 blocks of 256 over GPT-2's vocabulary, context 256.
    pub GptSmall {
        input tokens: [B, T], positions: [T];
        tokens -> wte: Embedding(50304, 256) => token_vectors;
        positions -> wpe: Embedding(256, 256) => position_vectors;
        Add(token_vectors, position_vectors) -> h: Block256 * 4 -> ln_f: LayerNorm
            -> lm_head: Linear(50304, bias = false) => logits;
        share lm_head.weight = wte.weight;
        output logits;
    }

    /// The block at width 64: 2 causal heads of 32, MLP 256.
    pub Block64 {
        input x: [B, T, 64];
        x -> ln_1: LayerNorm -> attn: MultiHeadAttention(64, 2, causal = true, bias = true) => a;
        Add(x, a) => h;
        h -> ln_2: LayerNorm -> fc: Linear(256) -> GeluApprox -> proj: Linear(64) => m;
        Add(h, m) => y;
        output y;
    }

    /// 2 blocks of 64, vocabulary 512, context 64: the same design at CPU size.
    pub GptTiny {
        input tokens: [B, T], positions: [T];
        tokens -> wte: Embedding(512, 64) => token_vectors;
        positions -> wpe: Embedding(64, 64) => position_vectors;
        Add(token_vectors, position_vectors) -> h: Block64 * 2 -> ln_f: LayerNorm
            -> lm_head: Linear(512, bias = false) => logits;
        share lm_head.weight = wte.weight;
        output logits;
    }
}

//! A model family (parameters with and without defaults, expressions where
//! numbers go, a layer parameter, a repeat count of a parameter) and an
//! instance of it.

mithril::model! {
    pub Block(d: usize, heads: usize = 2, act: Layer = Gelu) {
        input x: [B, T, d];
        x -> attn: MultiHeadAttention(d, heads) -> up: Linear(4 * d) -> act -> down: Linear(d) => y;
        output y;
    }

    pub Stack(d: usize = 8, layers: usize = 2) {
        input x: [B, T, d];
        x -> blocks: Block(d = d, heads = d / 4) * layers -> Multiply(1.0 / 8.0) => y;
        output y;
    }

    pub Wide = Stack(d = 16, layers = 3);
}

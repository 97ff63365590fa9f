mithril::model! {
    /// A language model whose output layer reuses the token embedding's table.
    pub TiedLm {
        input tokens: [B, T];
        tokens -> embed: Embedding(100, 16) -> Relu -> head: Linear(100, bias = false) => logits;
        share head.weight = embed.weight;
        output logits;
    }
}

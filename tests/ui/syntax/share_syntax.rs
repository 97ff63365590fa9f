// `share` names two parameters: `layer.param = layer.param`.
mithril::model! {
    pub Lm {
        input tokens: [B, T];
        tokens -> embed: Embedding(100, 16) -> head: Linear(100, bias = false) => logits;
        share head = embed.weight;
        output logits;
    }

    pub Arrow {
        input tokens: [B, T];
        tokens -> embed: Embedding(100, 16) -> head: Linear(100, bias = false) => logits;
        share head.weight => embed.weight;
        output logits;
    }
}

fn main() {}

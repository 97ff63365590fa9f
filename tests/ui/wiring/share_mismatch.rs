// Sharing needs an existing parameter of the same shape; each mistake is one
// error at its path.
mithril::model! {
    pub Lm {
        input tokens: [B, T];
        tokens -> embed: Embedding(100, 16) -> head: Linear(99, bias = false) => logits;
        share head.weight = embed.weight;
        output logits;
    }

    pub Typo {
        input tokens: [B, T];
        tokens -> embed: Embedding(100, 16) -> head: Linear(100, bias = false) => logits;
        share head.wieght = embed.weight;
        share head.weight = embd.weight;
        output logits;
    }
}

fn main() {
    let _ = Lm::PARAMETER_COUNT;
    let _ = Typo::PARAMETER_COUNT;
}

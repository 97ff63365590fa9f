// The same value listed twice in `output`.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(10) => logits;
        output logits, logits;
    }
}

fn main() {}

// `->` must be followed by a layer.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(10) -> => logits;
        output logits;
    }
}

fn main() {}

// A misspelt layer: the closest built-in is suggested.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linaer(128) -> Relu => logits;
        output logits;
    }
}

fn main() {}

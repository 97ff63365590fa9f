// A string is not a layer argument.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear("128") => logits;
        output logits;
    }
}

fn main() {}

// An input that nothing consumes.
mithril::model! {
    Mlp {
        input x: [B, 784], mask: [B, 784];
        x -> Linear(10) => logits;
        output logits;
    }
}

fn main() {}

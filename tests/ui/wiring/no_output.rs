// A model without an `output` statement returns nothing.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(10) => logits;
    }
}

fn main() {}

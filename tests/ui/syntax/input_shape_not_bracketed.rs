// The shape of an input is written in brackets.
mithril::model! {
    Mlp {
        input x: (B, 784);
        x -> Linear(10) => logits;
        output logits;
    }
}

fn main() {}

// A model has one `output` statement.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(10) => logits;
        logits -> Softmax => probs;
        output logits;
        output probs;
    }
}

fn main() {}

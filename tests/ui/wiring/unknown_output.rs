// `output` names a value that does not exist.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(10) => logits;
        output logit;
    }
}

fn main() {}

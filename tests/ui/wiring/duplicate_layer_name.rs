// Two layers with the same user name would share a parameter path.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> fc: Linear(128) -> Relu -> fc: Linear(10) => logits;
        output logits;
    }
}

fn main() {}

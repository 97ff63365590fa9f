// Two statements run together: the `;` after the first flow is missing.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(10) => logits
        output logits;
    }
}

fn main() {}

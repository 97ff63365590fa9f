// The last statement of a model has no `;`.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(10) => logits;
        output logits
    }
}

fn main() {}

// Rust statements are not model statements.
mithril::model! {
    Mlp {
        input x: [B, 784];
        let h = x;
        x -> Linear(10) => logits;
        output logits;
    }
}

fn main() {}

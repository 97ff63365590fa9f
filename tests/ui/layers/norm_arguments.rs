// `eps` must be positive; `RmsNorm`'s weight needs a literal feature count.
mithril::model! {
    Net {
        input x: [B, T, D];
        x -> LayerNorm(eps = 0) => a;
        x -> RmsNorm => b;
        output a, b;
    }
}

fn main() {}

// `Squeeze` removes an axis of literal size 1 only.
mithril::model! {
    Net {
        input x: [B, 4, T];
        x -> Squeeze(1) => a;
        x -> Squeeze(-1) => b;
        output a, b;
    }
}

fn main() {}

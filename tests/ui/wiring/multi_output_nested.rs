// Only single-output models can be used as layers.
mithril::model! {
    Split {
        input x: [B, 8];
        x -> Relu => a;
        x -> Tanh => b;
        output a, b;
    }

    Net {
        input x: [B, 8];
        x -> Split => y;
        output y;
    }
}

fn main() {}

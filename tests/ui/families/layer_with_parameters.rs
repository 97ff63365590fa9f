// A layer parameter that chose a layer with parameters of its own.
mithril::model! {
    Heavy(act: Layer = Relu) {
        input x: [B, 8];
        x -> act => y;
        output y;
    }

    Net = Heavy(act = LayerNorm);
}

fn main() {}

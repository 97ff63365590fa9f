// A float for a size, and a number for a layer.
mithril::model! {
    Block(d: usize, act: Layer = Relu) {
        input x: [B, d];
        x -> Linear(d) -> act => y;
        output y;
    }

    Net {
        input x: [B, 64];
        x -> Block(d = 1.5) -> Block(64, act = 2) => y;
        output y;
    }
}

fn main() {}

// A nested model is applied to a value of the wrong shape.
mithril::model! {
    Block {
        input x: [B, 64];
        x -> Linear(64) -> Relu => y;
        output y;
    }

    Net {
        input x: [B, 784];
        x -> Linear(32) -> Block => y;
        output y;
    }
}

fn main() {}

// A nested model is a layer without arguments.
mithril::model! {
    Block {
        input x: [B, 8];
        x -> Linear(8) => y;
        output y;
    }

    Net {
        input x: [B, 8];
        x -> Block(4) => y;
        output y;
    }
}

fn main() {}

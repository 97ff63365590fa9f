// A width that does not match what feeds the block.
mithril::model! {
    Block(d: usize) {
        input x: [B, d];
        x -> Linear(d) => y;
        output y;
    }

    Net {
        input x: [B, 64];
        x -> Block(d = 32) => y;
        output y;
    }
}

fn main() {}

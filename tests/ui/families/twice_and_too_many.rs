// A parameter given twice, and one argument too many.
mithril::model! {
    Block(d: usize) {
        input x: [B, d];
        x -> Linear(d) => y;
        output y;
    }

    Net {
        input x: [B, 64];
        x -> Block(64, d = 64) -> Block(64, 2) => y;
        output y;
    }
}

fn main() {}

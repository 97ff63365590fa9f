// A misspelt parameter name, with the closest suggested.
mithril::model! {
    Block(d: usize, heads: usize = 4) {
        input x: [B, d];
        x -> Linear(d) => y;
        output y;
    }

    Net {
        input x: [B, 64];
        x -> Block(d = 64, haeds = 8) => y;
        output y;
    }
}

fn main() {}

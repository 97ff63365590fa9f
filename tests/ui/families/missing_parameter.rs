// A parameter without a default that the call does not give.
mithril::model! {
    Block(d: usize, heads: usize) {
        input x: [B, d];
        x -> Linear(d) => y;
        output y;
    }

    Small = Block(d = 64);
}

fn main() {}

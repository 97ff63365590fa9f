// A size that comes out zero, and an overflow.
mithril::model! {
    Block(d: usize) {
        input x: [B, d];
        x -> Linear(d - 64) -> Linear(d * 4611686018427387904) => y;
        output y;
    }

    Net = Block(d = 64);
}

fn main() {}

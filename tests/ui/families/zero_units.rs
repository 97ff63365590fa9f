// A size that comes out zero for one instantiation.
mithril::model! {
    Block(d: usize) {
        input x: [B, d];
        x -> Linear(d - 64) => y;
        output y;
    }

    Net = Block(d = 64);
}

fn main() {}

// An expression that reads a name that is no parameter (a Rust constant).
const HIDDEN: usize = 128;

mithril::model! {
    Block(d: usize) {
        input x: [B, d];
        x -> Linear(4 * HIDDEN) -> Linear(d) => y;
        output y;
    }

    Net = Block(d = 8);
}

fn main() {}

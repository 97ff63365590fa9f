// A layer repeated zero times.
mithril::model! {
    Net {
        input x: [B, 8];
        x -> Linear(8) * 0 => y;
        output y;
    }
}

fn main() {}

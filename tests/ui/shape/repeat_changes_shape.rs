// A repeated layer must map its input shape to itself.
mithril::model! {
    Net {
        input x: [B, 64];
        x -> Linear(32) * 3 => y;
        output y;
    }
}

fn main() {}

// A constant whose value does not fit its type.
mithril::model! {
    const WIDTH: usize = 1.5;

    Net {
        input x: [B, 8];
        x -> Linear(8) => y;
        output y;
    }
}

fn main() {}

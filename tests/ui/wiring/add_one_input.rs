// Add takes two inputs.
mithril::model! {
    Net {
        input x: [B, 8];
        Add(x) => y;
        output y;
    }
}

fn main() {}

// Rope rotates pairs of features, so `dims` is even.
mithril::model! {
    Net {
        input x: [B, T, 8];
        x -> Rope(5) => y;
        output y;
    }
}

fn main() {}

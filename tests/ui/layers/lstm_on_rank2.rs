// Lstm runs over sequences [B, T, F], not feature vectors.
mithril::model! {
    Net {
        input x: [B, 16];
        x -> Lstm(32) => y;
        output y;
    }
}

fn main() {}

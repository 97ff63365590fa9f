// Different symbols do not broadcast against each other.
mithril::model! {
    Net {
        input a: [B, T, 8], b: [B, S, 8];
        Add(a, b) => c;
        output c;
    }
}

fn main() {}

// A block of another crate named without its path or a `use`: rustc
// suggests the import.
mithril::model! {
    Net {
        input x: [B, T, 32];
        x -> TransformerBlock => y;
        output y;
    }
}

fn main() {
    let _ = Net::summary;
}

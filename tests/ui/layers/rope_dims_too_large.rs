// Rope rotates at most the D features it is given.
mithril::model! {
    Net {
        input x: [B, T, 32];
        x -> Rope(64) => y;
        output y;
    }
}

fn main() {}

// MultiHeadAttention splits `dims` evenly across its heads.
mithril::model! {
    Net {
        input x: [B, T, 64];
        x -> MultiHeadAttention(64, 5) => y;
        output y;
    }
}

fn main() {}

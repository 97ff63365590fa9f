// Queries and keys of ScaledDotProductAttention share their feature size D.
mithril::model! {
    Net {
        input q: [B, 4, T, 16];
        input k: [B, 4, S, 8];
        input v: [B, 4, S, 8];
        ScaledDotProductAttention(q, k, v) => y;
        output y;
    }
}

fn main() {}

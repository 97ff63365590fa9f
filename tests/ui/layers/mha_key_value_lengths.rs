// Keys and values of MultiHeadAttention come in pairs: one length S.
mithril::model! {
    Net {
        input q: [B, T, 16];
        input k: [B, S, 16];
        input v: [B, T, 16];
        MultiHeadAttention(16, 2)(q, k, v) => y;
        output y;
    }
}

fn main() {}

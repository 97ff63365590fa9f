// MultiHeadAttention takes x (self-attention) or query, key and value.
mithril::model! {
    Net {
        input q: [B, T, 16];
        input kv: [B, S, 16];
        MultiHeadAttention(16, 2)(q, kv) => y;
        output y;
    }
}

fn main() {}

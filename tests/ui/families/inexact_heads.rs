// A mistake only one instantiation exposes: 768 does not divide by 10.
mithril::model! {
    Block(d: usize, heads: usize) {
        input x: [B, T, d];
        x -> attn: MultiHeadAttention(d, heads) => y;
        output y;
    }

    Net {
        input x: [B, T, 768];
        x -> Block(d = 768, heads = 12) -> Block(d = 768, heads = 10) => y;
        output y;
    }
}

fn main() {}

// Constants of the block size an instance: one that does not fit is an
// error naming the layer; a Rust constant outside the block is not read.
const OUTSIDE: usize = 64;

mithril::model! {
    pub const HEADS: usize = 5;
    const WIDTH: usize = 64;

    Block(d: usize, heads: usize) {
        input x: [B, T, d];
        x -> attn: MultiHeadAttention(d, heads) => y;
        output y;
    }

    Net = Block(d = WIDTH, heads = HEADS);
    Other = Block(d = OUTSIDE, heads = 4);
}

fn main() {}

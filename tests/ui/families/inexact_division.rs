// `d / heads` is no whole number for this instantiation.
mithril::model! {
    Heads(d: usize, heads: usize) {
        input x: [B, T, d];
        x -> Reshape([B, T, heads, d / heads]) => y;
        output y;
    }

    Net = Heads(d = 768, heads = 10);
}

fn main() {}

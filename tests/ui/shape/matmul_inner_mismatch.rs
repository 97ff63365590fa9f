// MatMul's inner sizes must agree: [.., n, k] x [.., k, m].
mithril::model! {
    Attention {
        input q: [B, 16, 64], k: [B, 32, 16];
        MatMul(q, k) => scores;
        output scores;
    }
}

fn main() {}

// Reshape accepts at most one `-1`.
mithril::model! {
    Net {
        input x: [B, 784];
        x -> Reshape([B, -1, -1]) => y;
        output y;
    }
}

fn main() {}

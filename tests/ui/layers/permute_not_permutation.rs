// `Permute` needs every axis of the input exactly once.
mithril::model! {
    Net {
        input x: [B, 3, 4];
        x -> Permute([0, 2, 2]) => y;
        output y;
    }
}

fn main() {}

// The function given to Lambda does not exist.
mithril::model! {
    Net {
        input x: [B, 8];
        x -> Lambda(swish, shape = same) => y;
        output y;
    }
}

fn main() {}

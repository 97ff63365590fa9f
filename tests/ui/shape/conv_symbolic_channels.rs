// Conv2d needs a known channel count for its weight.
mithril::model! {
    Net {
        input image: [B, 28, 28, C];
        image -> Conv2d(8, 3) => y;
        output y;
    }
}

fn main() {}

// Conv2d needs a kernel size.
mithril::model! {
    Net {
        input image: [B, 28, 28, 1];
        image -> Conv2d(16) => y;
        output y;
    }
}

fn main() {}

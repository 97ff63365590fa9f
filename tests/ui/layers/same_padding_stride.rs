// `padding = same` keeps the size only with stride 1.
mithril::model! {
    Net {
        input image: [B, 28, 28, 1];
        image -> Conv2d(16, 3, stride = 2, padding = same) => y;
        output y;
    }
}

fn main() {}

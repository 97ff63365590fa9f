// Positional arguments come before named ones.
mithril::model! {
    Net {
        input image: [B, 28, 28, 1];
        image -> Conv2d(filters = 16, 3) => y;
        output y;
    }
}

fn main() {}

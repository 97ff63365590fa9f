// Padding words are `same` and `valid`.
mithril::model! {
    Net {
        input image: [B, 28, 28, 1];
        image -> Conv2d(16, 3, padding = full) => y;
        output y;
    }
}

fn main() {}

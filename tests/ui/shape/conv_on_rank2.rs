// Conv2d takes NHWC images, not feature vectors.
mithril::model! {
    Net {
        input x: [B, 784];
        x -> Conv2d(16, kernel = 3) => y;
        output y;
    }
}

fn main() {}

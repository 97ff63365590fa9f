// A pooling window larger than the image (after two pools, 2x2 is left).
mithril::model! {
    Net {
        input image: [B, 8, 8, 3];
        image -> MaxPool2d(2) -> MaxPool2d(2) -> MaxPool2d(3) => y;
        output y;
    }
}

fn main() {}

// Reshape keeps the number of elements.
mithril::model! {
    Unflatten {
        input x: [B, 784];
        x -> Reshape([B, 28, 27, 1]) => image;
        output image;
    }
}

fn main() {}

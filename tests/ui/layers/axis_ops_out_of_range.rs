// Axes of `Transpose` and `Unsqueeze` must exist (`Unsqueeze` may add one at the end).
mithril::model! {
    Net {
        input x: [B, 4, 5];
        x -> Transpose(1, 3) => a;
        x -> Unsqueeze(4) => b;
        x -> Unsqueeze(3) => c;
        output a, b, c;
    }
}

fn main() {}

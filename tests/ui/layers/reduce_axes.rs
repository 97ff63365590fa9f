// Reductions name each axis once, within the rank.
mithril::model! {
    Net {
        input x: [B, 4, 5];
        x -> Mean(axes = [1, -2]) => a;
        x -> Max(axes = 3) => b;
        output a, b;
    }
}

fn main() {}

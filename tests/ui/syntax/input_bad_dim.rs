// Dimensions are positive integers or symbols.
mithril::model! {
    Mlp {
        input x: [B, 0];
        input y: [B, 2.5];
        Concat(x, y) => z;
        output z;
    }
}

fn main() {}

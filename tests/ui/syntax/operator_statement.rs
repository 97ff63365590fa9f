// Arithmetic on values is written with layers (`Add(x, y)`), not operators.
mithril::model! {
    Mlp {
        input x: [B, 10], y: [B, 10];
        x + y => z;
        output z;
    }
}

fn main() {}

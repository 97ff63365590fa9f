// An operand expression of a name that is no parameter.
mithril::model! {
    Scale(d: usize = 8) {
        input x: [B, d];
        Multiply(x, 1.0 / width) => y;
        output y;
    }
}

fn main() {}

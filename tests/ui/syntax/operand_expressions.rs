// An operand expression reads numbers, constants and a family's parameters;
// a call or arithmetic on a value is a layer in a statement of its own.
mithril::model! {
    Net {
        input x: [B, 4], h: [B, 4];
        Add(relu(x), h) => a;
        Add(x + 1, h) => b;
        Multiply(x, 2.0 * 0.5) => c;
        output a, b, c;
    }

    Scaled(d: usize = 4) {
        input x: [B, d];
        Multiply(x, 1.0 / d) => y;
        Multiply(y, x * d) => z;
        output z;
    }
}

fn main() {}

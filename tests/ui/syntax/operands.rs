// Operands are value names or numbers; a pipeline stage completes a layer's
// operands with numbers only.
mithril::model! {
    Net {
        input x: [B, 4], h: [B, 4];
        Multiply(x, "0.5") => a;
        x -> Add(h) => b;
        Divide(x, 1e999) => c;
        output a, b, c;
    }
}

fn main() {}

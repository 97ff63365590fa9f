// Layer arguments are literals, words, tuples or shapes, not Rust
// expressions or constants: the macro needs their values while the crate
// compiles.
const HIDDEN: i64 = 64;
const SLOPE: f64 = 0.2;

mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(HIDDEN * 2) => logits;
        output logits;
    }
}

// A block of its own: a syntax error (above) holds back the checks of its
// block, and a constant is reported by the check.
mithril::model! {
    Constants {
        input x: [B, 784];
        x -> Linear(HIDDEN) -> LeakyRelu(negative_slope = SLOPE) => y;
        output y;
    }
}

fn main() {
    let _ = (HIDDEN, SLOPE);
}

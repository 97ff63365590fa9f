// A Rust constant is no operand: the macro reads the model while the crate
// compiles, before constants have values.
const SCALE: f32 = 0.5;

mithril::model! {
    Net {
        input x: [B, 4];
        Multiply(x, SCALE) => y;
        output y;
    }
}

fn main() {
    let _ = SCALE;
}

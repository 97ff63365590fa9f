//! Concat with arguments, MatMul, Subtract and Multiply (with broadcasting).

mithril::model! {
    Mixer {
        input a: [B, T, 3], b: [B, T, 5], q: [B, 16, 64], k: [B, 64, 32], scale: [1, 8];
        Concat(axis = -1)(a, b) => joined;
        Concat(axis = 1)(q, q, q) => stacked;
        MatMul(q, k) => scores;
        joined -> Linear(8) => projected;
        Multiply(projected, scale) => scaled;
        Subtract(scaled, projected) => delta;
        output joined, stacked, scores, delta;
    }
}

fn main() {
    assert_eq!(
        Mixer::OUTPUT_SHAPES,
        &[
            ("joined", "[B, T, 8]"),
            ("stacked", "[B, 48, 64]"),
            ("scores", "[B, 16, 32]"),
            ("delta", "[B, T, 8]"),
        ]
    );
    assert_eq!(Mixer::PARAMETER_COUNT, 8 * 8 + 8);
}

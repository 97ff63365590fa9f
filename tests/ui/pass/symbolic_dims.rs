//! Symbolic dims (`B`, `T`) mixed with literal ones, through Flatten and Reshape.

mithril::model! {
    Sequence {
        input tokens: [B, T, 64];
        tokens -> Linear(32) -> Gelu => per_step;
        per_step -> Flatten => flat;
        flat -> Reshape([B, -1, 16]) => halves;
        per_step -> LogSoftmax(axis = 1) => over_time;
        output flat, halves, over_time;
    }
}

fn main() {
    assert_eq!(Sequence::INPUT_SHAPES, &[("tokens", "[B, T, 64]")]);
    assert_eq!(
        Sequence::OUTPUT_SHAPES,
        &[
            ("flat", "[B, T*32]"),
            ("halves", "[B, T*2, 16]"),
            ("over_time", "[B, T, 32]"),
        ]
    );
    assert_eq!(Sequence::PARAMETER_COUNT, 64 * 32 + 32);
}

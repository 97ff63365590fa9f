//! A residual connection: `Add(x, h)` at the head of a flow, followed by a pipeline.

mithril::model! {
    Residual {
        input x: [B, 64];
        x -> Linear(64) -> Relu => h;
        Add(x, h) -> Relu => y;
        output y;
    }
}

fn main() {
    assert_eq!(Residual::OUTPUT_SHAPES, &[("y", "[B, 64]")]);
    assert_eq!(Residual::PARAMETER_COUNT, 64 * 64 + 64);
    let summary = Residual::summary();
    assert!(summary.contains("add_0"), "{summary}");
}

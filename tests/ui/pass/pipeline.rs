//! A plain pipeline with auto-named layers.

mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(128) -> Relu -> Linear(10) => logits;
        output logits;
    }
}

fn main() {
    assert_eq!(Mlp::PARAMETER_COUNT, 784 * 128 + 128 + 128 * 10 + 10);
    assert_eq!(Mlp::OUTPUT_SHAPES, &[("logits", "[B, 10]")]);
    let summary = Mlp::summary();
    assert!(summary.contains("linear_0"), "{summary}");
    assert!(summary.contains("linear_1"), "{summary}");
}

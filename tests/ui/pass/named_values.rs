//! Named values: `=> name` defines a value that later flows start from.

mithril::model! {
    TwoStage {
        input x: [B, 32];
        x -> Linear(16) -> Tanh => hidden;
        hidden -> Linear(8) => code;
        code -> Sigmoid => gate;
        output gate;
    }
}

fn main() {
    assert_eq!(TwoStage::OUTPUT_SHAPES, &[("gate", "[B, 8]")]);
    assert_eq!(TwoStage::PARAMETER_COUNT, 32 * 16 + 16 + 16 * 8 + 8);
    let summary = TwoStage::summary();
    for row in ["linear_0", "tanh_0", "linear_1", "sigmoid_0"] {
        assert!(summary.contains(row), "{summary}");
    }
}

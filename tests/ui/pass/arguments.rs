//! Positional and named arguments, tuples, words, negative numbers and booleans.

mithril::model! {
    ConvNet {
        input image: [B, 28, 28, 1];
        image -> Conv2d(8, 3, padding = same) -> LeakyRelu(0.2)
              -> Conv2d(filters = 16, kernel = (3, 5), stride = 2, padding = (1, 2), bias = false)
              -> MaxPool2d(kernel = 2, stride = 1) -> AvgPool2d(2, padding = 1)
              -> Flatten(start = 1, end = -1) -> Linear(10, false) => logits;
        output logits;
    }
}

fn main() {
    // conv 8x3x3x1 + 8; conv 16x3x5x8 without bias; 28 -> 14 (stride 2, pad 1/2)
    // -> 13 (max 2, stride 1) -> 7 (avg 2, pad 1); linear (7*7*16) -> 10 without bias.
    assert_eq!(
        ConvNet::PARAMETER_COUNT,
        8 * 3 * 3 + 8 + 16 * 3 * 5 * 8 + 7 * 7 * 16 * 10
    );
    assert_eq!(ConvNet::OUTPUT_SHAPES, &[("logits", "[B, 10]")]);
    let summary = ConvNet::summary();
    assert!(
        summary.contains(
            "Conv2d(filters = 16, kernel = (3, 5), stride = 2, padding = (1, 2), bias = false)"
        ),
        "{summary}"
    );
    assert!(summary.contains("[B, 7, 7, 16]"), "{summary}");
}

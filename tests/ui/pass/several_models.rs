//! Several independent models in one block, and one that nests another.

mithril::model! {
    Encoder {
        input x: [B, 32];
        x -> Linear(8) -> Relu => code;
        output code;
    }

    Decoder {
        input code: [B, 8];
        code -> Linear(32) -> Sigmoid => x;
        output x;
    }

    AutoEncoder {
        input x: [B, 32];
        x -> Encoder -> Decoder => reconstruction;
        output reconstruction;
    }
}

fn main() {
    assert_eq!(Encoder::PARAMETER_COUNT, 32 * 8 + 8);
    assert_eq!(Decoder::PARAMETER_COUNT, 8 * 32 + 32);
    assert_eq!(
        AutoEncoder::PARAMETER_COUNT,
        Encoder::PARAMETER_COUNT + Decoder::PARAMETER_COUNT
    );
    assert_eq!(AutoEncoder::OUTPUT_SHAPES, &[("reconstruction", "[B, 32]")]);
    assert!(AutoEncoder::summary().contains("encoder_0"));
}

// Numbers as operands (at a statement's head and after a pipeline stage's
// value), math layers, a `buffer` (state: a parameter field, never
// trained) and a `static` input (data: no gradient).
use mithril::prelude::*;

mithril::model! {
    Scaled {
        input x: [B, 3];
        static mask: [B, 3];
        buffer offset: [3] = 0.5;
        Subtract(x, offset) -> Square -> Multiply(0.5) => half_square;
        Greater(mask, 0) => keep;
        Where(keep, half_square, 0) -> Sum(axes = 1) -> RobustSqrt => y;
        output y;
    }
}

fn main() {
    let backend = MlxBackend::new().unwrap();
    let params = Scaled::init(&backend).unwrap();
    assert_eq!(params.offset.as_slice::<f32>(), [0.5, 0.5, 0.5]);
    let inputs = ScaledInputs {
        x: Array::from_slice(&[0.5f32, 2.5, 1.5], &[1, 3]),
        mask: Array::from_slice(&[1.0f32, 1.0, 0.0], &[1, 3]),
    };
    let out = Scaled::forward(&params, &inputs).unwrap();
    // sqrt(0.5 * (0^2 + 2^2)) = sqrt(2)
    assert!((out.y.as_slice::<f32>()[0] - 2f32.sqrt()).abs() < 1e-6);
    assert_eq!(Scaled::OUTPUT_SHAPES, &[("y", "[B]")]);
}

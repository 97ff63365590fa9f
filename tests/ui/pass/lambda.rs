//! Custom ops: `Lambda(function, shape = ..)` with a function in scope or a path.

use mithril::mlx_rs::error::Exception;
use mithril::prelude::*;

fn square(x: &Array) -> Result<Array, Exception> {
    x.square()
}

mod ops {
    use mithril::mlx_rs::Array;
    use mithril::mlx_rs::error::Exception;

    /// Sums the last axis: [B, 4] -> [B].
    pub fn row_sum(x: &Array) -> Result<Array, Exception> {
        x.sum_axis(-1, None)
    }
}

mithril::model! {
    Custom {
        input x: [B, 4];
        x -> Lambda(square, shape = same) -> Lambda(function = ops::row_sum, shape = [B]) => total;
        output total;
    }
}

fn main() -> Result<(), mithril::Error> {
    assert_eq!(Custom::OUTPUT_SHAPES, &[("total", "[B]")]);
    assert_eq!(Custom::PARAMETER_COUNT, 0);
    let backend = MlxBackend::new()?;
    let params = Custom::init(&backend)?;
    let x = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, -1.0, 0.0, 0.0, 0.0], &[2, 4]);
    let out = Custom::forward(&params, &CustomInputs { x })?;
    assert_eq!(out.total.as_slice::<f32>(), &[30.0, 1.0]);
    Ok(())
}

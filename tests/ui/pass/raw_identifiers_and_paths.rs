//! Raw identifiers as layer, value and input names; a custom op's function
//! written in parentheses or by a qualified path behaves as a bare name.

use mithril::mlx_rs::{Array, error::Exception};
use mithril::prelude::*;

pub fn halve(x: &Array) -> Result<Array, Exception> {
    x.multiply(Array::from_f32(0.5))
}

mod ops {
    pub use super::halve;
}

mithril::model! {
    Net {
        input r#in: [B, 2];
        r#in -> r#type: Linear(2) -> Lambda((halve)) -> Lambda(self::ops::halve) -> Lambda(crate::halve) => r#fn;
        output r#fn;
    }
}

fn main() -> Result<(), mithril::Error> {
    let backend = MlxBackend::new()?;
    let params = Net::init(&backend)?;
    assert_eq!(params.r#type.weight.shape(), &[2, 2]);
    let x = Array::from_slice(&[8.0f32, 16.0], &[1, 2]);
    let y = Net::forward(&params, &NetInputs { r#in: x.clone() })?.r#fn;
    let expected = x
        .matmul(params.r#type.weight.t())?
        .add(&params.r#type.bias)?
        .multiply(Array::from_f32(0.125))?;
    assert!(y.all_close(&expected, None, None, None)?);
    let paths: Vec<&str> = Net::graph().weights.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(paths, ["type.weight", "type.bias"]);
    Ok(())
}

// A declared `Lambda` shape may only use symbols the inputs bind.
use mithril::mlx_rs::{Array, error::Exception};

fn halve(x: &Array) -> Result<Array, Exception> {
    x.multiply(Array::from_f32(0.5))
}

mithril::model! {
    Net {
        input x: [B, 4];
        x -> Lambda(halve, shape = [B, K]) => y;
        output y;
    }
}

fn main() {}

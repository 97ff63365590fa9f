//! What the conformance tests share: reading a reference tensor that
//! transformers or torchvision wrote (scripts/fixtures/), and measuring
//! how far a result is from it.

use std::path::Path;

use mithril::mlx_rs::Array;

/// Tensor `name` of the safetensors file at `path`, an f32 or i32 array.
pub fn tensor(path: &Path, name: &str) -> Result<Array, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    let file = safetensors::SafeTensors::deserialize(&bytes)?;
    let t = file.tensor(name)?;
    let shape: Vec<i32> = t.shape().iter().map(|&d| d as i32).collect();
    let words = t.data().chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]);
    Ok(match t.dtype() {
        safetensors::Dtype::F32 => {
            Array::from_slice(&words.map(f32::from_le_bytes).collect::<Vec<_>>(), &shape)
        }
        safetensors::Dtype::I32 => {
            Array::from_slice(&words.map(i32::from_le_bytes).collect::<Vec<_>>(), &shape)
        }
        other => {
            return Err(format!("`{name}`: a reference is f32 or i32, found {other:?}").into());
        }
    })
}

/// The largest absolute difference between `a` and `b`, elementwise.
pub fn largest_difference(a: &Array, b: &Array) -> Result<f32, Box<dyn std::error::Error>> {
    Ok(a.subtract(b)?.abs()?.max(None)?.item_cast::<f32>())
}

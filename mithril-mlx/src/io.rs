//! Saving and loading parameters as safetensors, named as mlx.nn names them
//! (`fc1.weight`), so Python MLX reads our files (`mx.load`) and we read the
//! files its `model.save_weights` writes.
//!
//! Files are written atomically: to a temporary file in the same directory,
//! flushed to disk, then renamed over the target, so an interrupted save
//! never leaves a half-written file where the old one was. Loading parses
//! and validates the whole file (header, offsets, sizes) before trusting it,
//! and reports every name, shape and dtype mismatch in one error.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use mlx_rs::{Array, Dtype};
use safetensors::tensor::{Dtype as StDtype, SafeTensors, TensorView, View};

use crate::backend::DType;
use crate::error::{Error, Result};
use crate::model::{Model, Params};

fn st_dtype(dtype: Dtype) -> Option<StDtype> {
    Some(match dtype {
        Dtype::Float32 => StDtype::F32,
        Dtype::Float16 => StDtype::F16,
        Dtype::Bfloat16 => StDtype::BF16,
        _ => return None,
    })
}

fn dtype_name(dtype: StDtype) -> String {
    format!("{dtype:?}").to_lowercase()
}

/// An evaluated array's bytes, as safetensors wants them.
struct Bytes {
    dtype: StDtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Bytes {
    fn dtype(&self) -> StDtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn to_bytes(path: &str, a: &Array) -> Result<Bytes> {
    a.eval()?;
    let dtype = st_dtype(a.dtype()).ok_or_else(|| Error::Dtype {
        what: format!("parameter `{path}`"),
        expected: DType::F32,
        found: format!("{:?}", a.dtype()),
    })?;
    let data: Vec<u8> = match a.dtype() {
        Dtype::Float32 => a
            .as_slice::<f32>()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        Dtype::Float16 => a
            .as_slice::<half::f16>()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
        _ => a
            .as_slice::<half::bf16>()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
    };
    Ok(Bytes {
        dtype,
        shape: a.shape().iter().map(|&d| d as usize).collect(),
        data,
    })
}

fn from_view(view: &TensorView<'_>) -> Option<Array> {
    let shape: Vec<i32> = view.shape().iter().map(|&d| d as i32).collect();
    let raw = view.data();
    Some(match view.dtype() {
        StDtype::F32 => {
            let v: Vec<f32> = raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Array::from_slice(&v, &shape)
        }
        StDtype::F16 => {
            let v: Vec<half::f16> = raw
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]))
                .collect();
            Array::from_slice(&v, &shape)
        }
        StDtype::BF16 => {
            let v: Vec<half::bf16> = raw
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]))
                .collect();
            Array::from_slice(&v, &shape)
        }
        _ => return None,
    })
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp: PathBuf = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io)
}

/// Saves `params` of model `M` to `path` as safetensors, atomically, with
/// the model's name in the file's metadata.
pub fn save_params<M: Model>(params: &M::Params, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let graph = M::graph();
    let arrays = params.to_arrays();
    let mut tensors = Vec::with_capacity(arrays.len());
    for (w, a) in graph.weights.iter().zip(&arrays) {
        tensors.push((w.path.clone(), to_bytes(&w.path, a)?));
    }
    let metadata = HashMap::from([("mithril.model".to_string(), M::NAME.to_string())]);
    let bytes =
        safetensors::serialize(tensors.iter().map(|(k, v)| (k.as_str(), v)), Some(metadata))
            .map_err(|e| Error::Format {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
    write_atomically(path, &bytes)
}

/// Loads parameters of model `M` from `path`, checking every name, shape and
/// dtype (against `dtype`); all mismatches are reported together.
pub fn load_params<M: Model>(path: impl AsRef<Path>, dtype: DType) -> Result<M::Params> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut found: BTreeMap<String, TensorView<'_>> = file.tensors().into_iter().collect();
    let graph = M::graph();
    let expected_dtype = st_dtype(dtype.mlx()).unwrap_or(StDtype::F32);
    let mut problems = Vec::new();
    let mut arrays = Vec::with_capacity(graph.weights.len());
    for w in &graph.weights {
        match found.remove(&w.path) {
            None => problems.push(format!(
                "missing `{}` (shape {:?}, {})",
                w.path,
                w.shape,
                dtype_name(expected_dtype)
            )),
            Some(view) => {
                let mut ok = true;
                if view.shape() != w.shape.as_slice() {
                    problems.push(format!(
                        "`{}`: expected shape {:?}, found {:?}",
                        w.path,
                        w.shape,
                        view.shape()
                    ));
                    ok = false;
                }
                if view.dtype() != expected_dtype {
                    problems.push(format!(
                        "`{}`: expected dtype {}, found {}",
                        w.path,
                        dtype_name(expected_dtype),
                        dtype_name(view.dtype())
                    ));
                    ok = false;
                }
                if ok {
                    arrays.push(from_view(&view).ok_or_else(|| Error::Format {
                        path: path.to_path_buf(),
                        reason: format!("unsupported dtype for `{}`", w.path),
                    })?);
                }
            }
        }
    }
    for (extra, view) in &found {
        problems.push(format!(
            "unexpected `{extra}` (shape {:?}, {})",
            view.shape(),
            dtype_name(view.dtype())
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Mismatch {
            path: path.to_path_buf(),
            model: M::NAME,
            problems,
        });
    }
    M::Params::from_arrays(&mut arrays.into_iter()).ok_or_else(|| Error::Mismatch {
        path: path.to_path_buf(),
        model: M::NAME,
        problems: vec!["parameter count does not match".into()],
    })
}

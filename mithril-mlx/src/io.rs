//! Saving and loading parameters as safetensors, named as mlx.nn names them
//! (`fc1.weight`), so Python MLX reads our files (`mx.load`) and we read the
//! files its `model.save_weights` writes.
//!
//! Files are written atomically: to a temporary file in the same directory,
//! flushed to disk, renamed over the target, and the directory flushed, so
//! an interrupted save never leaves a half-written file where the old one
//! was. Loading parses and validates the whole file (header, offsets, sizes)
//! before trusting it, and reports every name, shape and dtype mismatch in
//! one error. Whole training runs (optimizer state, random key, position in
//! the data) are saved by [`crate::checkpoint`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use mlx_rs::{Array, ArrayElement, Dtype};
use safetensors::tensor::{Dtype as StDtype, SafeTensors, TensorView, View};

use crate::backend::DType;
use crate::error::{Error, Result};
use crate::model::{Model, Params};

/// The safetensors dtype of an MLX dtype, for those files carry.
pub(crate) fn st_dtype(dtype: Dtype) -> Option<StDtype> {
    Some(match dtype {
        Dtype::Float32 => StDtype::F32,
        Dtype::Float16 => StDtype::F16,
        Dtype::Bfloat16 => StDtype::BF16,
        Dtype::Uint8 => StDtype::U8,
        Dtype::Uint32 => StDtype::U32,
        Dtype::Uint64 => StDtype::U64,
        Dtype::Int32 => StDtype::I32,
        Dtype::Int64 => StDtype::I64,
        Dtype::Bool => StDtype::BOOL,
        _ => return None,
    })
}

/// `f32`, `bf16`, `u32`: how errors name a safetensors dtype.
pub(crate) fn dtype_name(dtype: StDtype) -> String {
    format!("{dtype:?}").to_lowercase()
}

/// An evaluated array's bytes, as safetensors wants them.
pub(crate) struct Bytes {
    pub(crate) dtype: StDtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) data: Vec<u8>,
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

/// The little-endian bytes of every element of `a` (row-major).
fn encode<T: ArrayElement + Copy, const N: usize>(
    a: &Array,
    le_bytes: fn(T) -> [u8; N],
) -> Result<Vec<u8>> {
    if a.size() == 0 {
        return Ok(Vec::new());
    }
    let a = a.contiguous()?;
    let values = a.try_as_slice::<T>()?;
    Ok(values.iter().flat_map(|&v| le_bytes(v)).collect())
}

/// `a`'s bytes for a safetensors file; `what` names it in the error for a
/// dtype files cannot hold.
pub(crate) fn to_bytes(what: &str, a: &Array) -> Result<Bytes> {
    a.eval()?;
    let unsupported = || Error::Dtype {
        what: what.to_string(),
        expected: DType::F32,
        found: format!("{:?}", a.dtype()),
    };
    let dtype = st_dtype(a.dtype()).ok_or_else(unsupported)?;
    let data = match dtype {
        StDtype::F32 => encode(a, f32::to_le_bytes)?,
        StDtype::F16 => encode(a, half::f16::to_le_bytes)?,
        StDtype::BF16 => encode(a, half::bf16::to_le_bytes)?,
        StDtype::U8 => encode(a, u8::to_le_bytes)?,
        StDtype::U32 => encode(a, u32::to_le_bytes)?,
        StDtype::U64 => encode(a, u64::to_le_bytes)?,
        StDtype::I32 => encode(a, i32::to_le_bytes)?,
        StDtype::I64 => encode(a, i64::to_le_bytes)?,
        StDtype::BOOL => encode(a, |b: bool| [u8::from(b)])?,
        _ => return Err(unsupported()),
    };
    Ok(Bytes {
        dtype,
        shape: a.shape().iter().map(|&d| d as usize).collect(),
        data,
    })
}

fn decode<T, const N: usize>(raw: &[u8], from_le_bytes: fn([u8; N]) -> T) -> Vec<T> {
    raw.chunks_exact(N)
        .map(|chunk| {
            let mut bytes = [0u8; N];
            bytes.copy_from_slice(chunk);
            from_le_bytes(bytes)
        })
        .collect()
}

/// An MLX array from a tensor's bytes. `None` for a dtype MLX arrays here
/// do not take, a dimension beyond `i32`, or bytes that do not fill the
/// shape (safetensors checks that last one already; this never trusts it).
pub(crate) fn array_from_bytes(dtype: StDtype, shape: &[usize], raw: &[u8]) -> Option<Array> {
    let dims: Vec<i32> = shape
        .iter()
        .map(|&d| i32::try_from(d).ok())
        .collect::<Option<_>>()?;
    let elements = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))?;
    let width = match dtype {
        StDtype::U64 | StDtype::I64 => 8,
        StDtype::F32 | StDtype::U32 | StDtype::I32 => 4,
        StDtype::F16 | StDtype::BF16 => 2,
        StDtype::U8 | StDtype::BOOL => 1,
        _ => return None,
    };
    if elements.checked_mul(width)? != raw.len() {
        return None;
    }
    Some(match dtype {
        StDtype::F32 => Array::from_slice(&decode(raw, f32::from_le_bytes), &dims),
        StDtype::F16 => Array::from_slice(&decode(raw, half::f16::from_le_bytes), &dims),
        StDtype::BF16 => Array::from_slice(&decode(raw, half::bf16::from_le_bytes), &dims),
        StDtype::U8 => Array::from_slice(&decode(raw, u8::from_le_bytes), &dims),
        StDtype::U32 => Array::from_slice(&decode(raw, u32::from_le_bytes), &dims),
        StDtype::U64 => Array::from_slice(&decode(raw, u64::from_le_bytes), &dims),
        StDtype::I32 => Array::from_slice(&decode(raw, i32::from_le_bytes), &dims),
        StDtype::I64 => Array::from_slice(&decode(raw, i64::from_le_bytes), &dims),
        StDtype::BOOL => Array::from_slice(&decode(raw, |[b]: [u8; 1]| b != 0), &dims),
        _ => return None,
    })
}

fn from_view(view: &TensorView<'_>) -> Option<Array> {
    array_from_bytes(view.dtype(), view.shape(), view.data())
}

/// Fault injection for tests that kill a process while it writes a file
/// (the `fault-injection` feature).
#[cfg(feature = "fault-injection")]
pub mod fault {
    use std::path::Path;
    use std::sync::OnceLock;

    pub use mithril_install::WriteStage;

    pub(super) static WRITE_HOOK: OnceLock<fn(&Path, WriteStage)> = OnceLock::new();

    /// Makes every later [`write_atomically`](super::write_atomically) in
    /// this process call `hook` with the target and the stage it reached
    /// (for example to announce the stage and wait to be killed). Set once
    /// per process; returns `false` when a hook was already set.
    pub fn set_write_hook(hook: fn(&Path, WriteStage)) -> bool {
        WRITE_HOOK.set(hook).is_ok()
    }
}

/// Writes `bytes` to `path` atomically: into a temporary file in the same
/// directory, flushed to disk, renamed over `path`, then the directory
/// flushed so the rename itself survives a crash. Until the rename a reader
/// (or a crash) sees the previous file, after it the new one, never a mix.
/// The directory must exist; `Error::Io` names `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    #[cfg(feature = "fault-injection")]
    let reached = |stage| {
        if let Some(hook) = fault::WRITE_HOOK.get() {
            hook(path, stage);
        }
    };
    #[cfg(not(feature = "fault-injection"))]
    let reached = |_| {};
    mithril_install::write_atomically_observed(path, bytes, reached).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The bytes of the file at `path`; `Error::Io` naming it.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `bytes` (the contents of `path`) as a safetensors file, checked whole;
/// `Error::Format` naming the file.
pub(crate) fn parse_safetensors<'a>(path: &Path, bytes: &'a [u8]) -> Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Saves `params` of model `M` to `path` as safetensors, atomically, with
/// the model's name in the file's metadata.
pub fn save_params<M: Model>(params: &M::Params, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let graph = M::graph();
    let arrays = params.to_arrays();
    let mut tensors = Vec::with_capacity(arrays.len());
    for (w, a) in graph.weights.iter().zip(&arrays) {
        tensors.push((
            w.path.clone(),
            to_bytes(&format!("parameter `{}`", w.path), a)?,
        ));
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
    let bytes = read_file(path)?;
    let file = parse_safetensors(path, &bytes)?;
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
    M::Params::from_weights(&mut arrays.into_iter(), &graph.weights).ok_or_else(|| {
        Error::Mismatch {
            path: path.to_path_buf(),
            model: M::NAME,
            problems: vec!["parameter count does not match".into()],
        }
    })
}

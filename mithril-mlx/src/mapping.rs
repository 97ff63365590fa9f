//! Other libraries' checkpoints in and out: a declarative [`Mapping`]
//! between a checkpoint's names (Hugging Face's `transformer.h.3.attn.c_attn.weight`,
//! torchvision's `layer1.0.bn1.running_mean`) and a model's parameter paths
//! (`h.3.attn.query_proj.weight`).
//!
//! A mapping is a list of rules, each a pair of key patterns with captures
//! (`transformer.h.{i}.ln_1.weight` ↔ `h.{i}.ln_1.weight`) and what happens
//! to the array on the way: a transpose (PyTorch's `Conv1D` stores `in × out`,
//! mlx.nn's `Linear` `out × in`), a split of a fused tensor into several
//! parameters along an axis (GPT-2's `c_attn` into the query, key and value
//! projections), a key the model does not read (a buffer of another
//! library), or a key that is another parameter again (tied weights).
//!
//! [`Mapping::import`] reads a safetensors file into a model's parameters,
//! converting floating-point dtypes to the one asked for, and reports every
//! mismatch at once in one [`Error::Mismatch`]: keys no rule maps, parameters
//! no key gives, shapes that do not fit, dtypes that cannot be converted.
//! [`Mapping::export`] writes the parameters under the checkpoint's names
//! (concatenating what import split), atomically, so that a round trip
//! gives back the same tensors.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use mithril_core::graph::Graph;
use mlx_rs::{Array, ops};

use crate::backend::DType;
use crate::error::{Error, Result};
use crate::io::{
    array_from_bytes, dtype_name, parse_safetensors, read_file, to_bytes, write_atomically,
};
use crate::model::{Family, Params};

/// A key pattern: dot-separated segments, each a literal or a capture
/// `{name}` that matches a number (`transformer.h.{i}.ln_1.weight`). A
/// capture may carry an offset, `{j+1}`: the segment is the capture's value
/// plus one (torchvision's `layer2.{j+1}` is a stage's `rest.{j}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// A capture's name and the offset its segment adds to its value.
    Capture(String, u64),
}

/// Values of a pattern's captures, by name.
type Captures = Vec<(String, String)>;

impl Pattern {
    /// The pattern written as `a.{i}.b`, or with an offset, `a.{j+1}.b`.
    pub fn new(pattern: &str) -> Pattern {
        let segment = |s: &str| {
            let Some(inner) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                return Segment::Literal(s.to_string());
            };
            match inner.split_once('+') {
                Some((name, offset)) => match offset.trim().parse() {
                    Ok(k) => Segment::Capture(name.trim().to_string(), k),
                    Err(_) => Segment::Literal(s.to_string()),
                },
                None => Segment::Capture(inner.to_string(), 0),
            }
        };
        Pattern {
            segments: pattern.split('.').map(segment).collect(),
        }
    }

    /// The captures that make `key` this pattern, if any.
    fn matches(&self, key: &str) -> Option<Captures> {
        let parts: Vec<&str> = key.split('.').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut captures = Captures::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Capture(name, offset) => {
                    if part.is_empty() || !part.chars().all(|c| c.is_ascii_digit()) {
                        return None;
                    }
                    let value = part.parse::<u64>().ok()?.checked_sub(*offset)?.to_string();
                    match captures.iter().find(|(n, _)| n == name) {
                        Some((_, v)) if *v != value => return None,
                        Some(_) => {}
                        None => captures.push((name.clone(), value)),
                    }
                }
            }
        }
        Some(captures)
    }

    /// The key this pattern makes with `captures`.
    fn fill(&self, captures: &Captures) -> Option<String> {
        let parts: Option<Vec<String>> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => Some(l.clone()),
                Segment::Capture(name, offset) => captures
                    .iter()
                    .find(|(n, _)| n == name)
                    .and_then(|(_, v)| v.parse::<u64>().ok())
                    .map(|v| (v + offset).to_string()),
            })
            .collect();
        parts.map(|p| p.join("."))
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.clone(),
                Segment::Capture(n, 0) => format!("{{{n}}}"),
                Segment::Capture(n, k) => format!("{{{n}+{k}}}"),
            })
            .collect();
        f.write_str(&parts.join("."))
    }
}

/// One rule of a [`Mapping`].
#[derive(Clone, Debug)]
enum Rule {
    /// A checkpoint key that is one parameter, its axes in another order
    /// (the parameter's axis `k` is the tensor's `axes[k]`) or as it is.
    Rename {
        key: Pattern,
        param: Pattern,
        axes: Option<Vec<usize>>,
        /// An axis of length 1 the tensor has and the parameter has not
        /// (Hugging Face's `[1, 197, 768]` position table is `[197, 768]`).
        squeeze: Option<usize>,
    },
    /// A checkpoint key that is several parameters side by side along `axis`
    /// (of the checkpoint's tensor), each transposed or not.
    Split {
        key: Pattern,
        axis: usize,
        params: Vec<Pattern>,
        transpose: bool,
    },
    /// A checkpoint key the model does not read (another library's buffer).
    Skip { key: Pattern },
    /// A checkpoint key that holds a parameter again (tied weights): not
    /// read, and not written (one tensor, as Hugging Face saves it).
    Tied { key: Pattern, param: Pattern },
}

impl Rule {
    fn key(&self) -> &Pattern {
        match self {
            Rule::Rename { key, .. }
            | Rule::Split { key, .. }
            | Rule::Skip { key }
            | Rule::Tied { key, .. } => key,
        }
    }
}

/// A declarative mapping between a checkpoint's names and a model's
/// parameter paths; see the [module](self) documentation.
///
/// ```
/// use mithril_mlx::mapping::Mapping;
/// // PyTorch's `Conv1D` (GPT-2) stores `in × out`; mlx.nn's `Linear` `out × in`.
/// let gpt2 = Mapping::new()
///     .rename("transformer.wte.weight", "wte.weight")
///     .transposed("transformer.h.{i}.mlp.c_fc.weight", "h.{i}.fc.weight")
///     .split_transposed(
///         "transformer.h.{i}.attn.c_attn.weight",
///         1,
///         &["h.{i}.attn.query_proj.weight", "h.{i}.attn.key_proj.weight", "h.{i}.attn.value_proj.weight"],
///     )
///     .tied("lm_head.weight", "wte.weight");
/// assert_eq!(gpt2.len(), 4);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Mapping {
    rules: Vec<Rule>,
}

impl Mapping {
    /// An empty mapping.
    pub fn new() -> Mapping {
        Mapping::default()
    }

    /// How many rules it has.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether it has no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The checkpoint's `key` is the parameter `param` as it is.
    pub fn rename(mut self, key: &str, param: &str) -> Mapping {
        self.rules.push(Rule::Rename {
            key: Pattern::new(key),
            param: Pattern::new(param),
            axes: None,
            squeeze: None,
        });
        self
    }

    /// The checkpoint's `key` is the parameter `param` transposed (a 2-D
    /// weight stored `in × out`).
    pub fn transposed(mut self, key: &str, param: &str) -> Mapping {
        self.rules.push(Rule::Rename {
            key: Pattern::new(key),
            param: Pattern::new(param),
            axes: Some(vec![1, 0]),
            squeeze: None,
        });
        self
    }

    /// The checkpoint's `key` is the parameter `param` with its axes in
    /// another order: the parameter's axis `k` is the tensor's `axes[k]`
    /// (PyTorch's convolution weight `O × I × H × W` is mlx.nn's
    /// `O × H × W × I` with `axes = [0, 2, 3, 1]`).
    pub fn permuted(mut self, key: &str, param: &str, axes: &[usize]) -> Mapping {
        self.rules.push(Rule::Rename {
            key: Pattern::new(key),
            param: Pattern::new(param),
            axes: Some(axes.to_vec()),
            squeeze: None,
        });
        self
    }

    /// The checkpoint's `key` is the parameter `param` with one more axis,
    /// of length 1, at `axis` (Hugging Face's ViT position table
    /// `[1, 197, 768]` is a `[197, 768]` embedding).
    pub fn squeezed(mut self, key: &str, param: &str, axis: usize) -> Mapping {
        self.rules.push(Rule::Rename {
            key: Pattern::new(key),
            param: Pattern::new(param),
            axes: None,
            squeeze: Some(axis),
        });
        self
    }

    /// The checkpoint's `key` holds `params` side by side along `axis`, in
    /// equal parts (a fused tensor).
    pub fn split(mut self, key: &str, axis: usize, params: &[&str]) -> Mapping {
        self.rules.push(Rule::Split {
            key: Pattern::new(key),
            axis,
            params: params.iter().map(|p| Pattern::new(p)).collect(),
            transpose: false,
        });
        self
    }

    /// As [`Mapping::split`], each part transposed (GPT-2's `c_attn`: `in ×
    /// 3·out` into three `out × in` projections).
    pub fn split_transposed(mut self, key: &str, axis: usize, params: &[&str]) -> Mapping {
        self.rules.push(Rule::Split {
            key: Pattern::new(key),
            axis,
            params: params.iter().map(|p| Pattern::new(p)).collect(),
            transpose: true,
        });
        self
    }

    /// The checkpoint's `key` is not read (a buffer of the library that
    /// wrote it), and not written back.
    pub fn skip(mut self, key: &str) -> Mapping {
        self.rules.push(Rule::Skip {
            key: Pattern::new(key),
        });
        self
    }

    /// The checkpoint's `key` holds the parameter `param` again (a tied
    /// weight, such as an LM head that is the token embedding): not read
    /// when present, and not written (one tensor, as Hugging Face saves it).
    pub fn tied(mut self, key: &str, param: &str) -> Mapping {
        self.rules.push(Rule::Tied {
            key: Pattern::new(key),
            param: Pattern::new(param),
        });
        self
    }

    /// The first rule whose key pattern `key` matches, with its captures.
    fn rule_for(&self, key: &str) -> Option<(&Rule, Captures)> {
        self.rules
            .iter()
            .find_map(|r| r.key().matches(key).map(|c| (r, c)))
    }

    /// The parameters of `graph` (a model's, or an instance's: `M`'s types)
    /// from the safetensors file at `path`, every floating-point tensor
    /// converted to `dtype`. Every mismatch is reported in one error.
    pub fn import_graph<M: Family>(
        &self,
        graph: &Graph,
        path: impl AsRef<Path>,
        dtype: DType,
    ) -> Result<M::Params> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        let file = parse_safetensors(path, &bytes)?;
        let mismatch = |problems: Vec<String>| Error::Mismatch {
            path: path.to_path_buf(),
            model: M::NAME,
            problems,
        };
        let mut problems = Vec::new();
        // Each parameter path the file gives, with the key it came from.
        let mut given: HashMap<String, (Array, String)> = HashMap::new();
        // Tied keys present in the file, with the parameter they repeat.
        let mut tied: Vec<(String, String, Array)> = Vec::new();
        let mut keys: Vec<(String, safetensors::tensor::TensorView<'_>)> = file.tensors();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, view) in keys {
            let Some((rule, captures)) = self.rule_for(&key) else {
                problems.push(format!(
                    "unexpected `{key}` (shape {:?}, {}): no rule of the mapping names it",
                    view.shape(),
                    dtype_name(view.dtype())
                ));
                continue;
            };
            let squeeze = match rule {
                Rule::Rename { squeeze, .. } => *squeeze,
                _ => None,
            };
            let (params, axis, permutation) = match rule {
                Rule::Skip { .. } => continue,
                Rule::Tied { param, .. } => {
                    let read = array_from_bytes(view.dtype(), view.shape(), view.data());
                    if let (Some(name), Some(array)) = (param.fill(&captures), read) {
                        tied.push((key.clone(), name, array));
                    }
                    continue;
                }
                Rule::Rename { param, axes, .. } => (vec![param.clone()], None, axes.clone()),
                Rule::Split {
                    params,
                    axis,
                    transpose,
                    ..
                } => (params.clone(), Some(*axis), transpose.then(|| vec![1, 0])),
            };
            let Some(array) = array_from_bytes(view.dtype(), view.shape(), view.data()) else {
                problems.push(format!(
                    "`{key}`: dtype {} cannot be read",
                    dtype_name(view.dtype())
                ));
                continue;
            };
            let parts = match axis {
                None => vec![array],
                Some(axis) => match split(&array, axis, params.len()) {
                    Ok(parts) => parts,
                    Err(message) => {
                        problems.push(format!("`{key}`: {message}"));
                        continue;
                    }
                },
            };
            for (param, part) in params.iter().zip(parts) {
                let Some(name) = param.fill(&captures) else {
                    problems.push(format!(
                        "`{key}`: the mapping's `{param}` uses a capture `{}` does not have",
                        rule.key()
                    ));
                    continue;
                };
                let part = match &permutation {
                    Some(axes) if part.ndim() == axes.len() => {
                        let axes: Vec<i32> = axes.iter().map(|&a| a as i32).collect();
                        part.transpose_axes(&axes)?
                    }
                    Some(axes) => {
                        problems.push(format!(
                            "`{key}`: expected a {}-D tensor to reorder, found shape {:?}",
                            axes.len(),
                            part.shape()
                        ));
                        continue;
                    }
                    None => part,
                };
                let part = match squeeze {
                    Some(axis) if part.shape().get(axis) == Some(&1) => {
                        part.squeeze_axes(&[axis as i32])?
                    }
                    Some(axis) => {
                        problems.push(format!(
                            "`{key}`: expected an axis {axis} of length 1 to drop, found shape {:?}",
                            part.shape()
                        ));
                        continue;
                    }
                    None => part,
                };
                given.insert(name, (part, key.clone()));
            }
        }
        // A tied copy must be the parameter it repeats.
        for (key, param, copy) in &tied {
            if let Some((array, _)) = given.get(param) {
                let same = copy.shape() == array.shape()
                    && copy
                        .as_dtype(array.dtype())
                        .and_then(|c| c.eq_values(array))
                        .unwrap_or(false);
                if !same {
                    problems.push(format!(
                        "`{key}` is tied to `{param}` but holds other values"
                    ));
                }
            }
        }
        let mut arrays = Vec::with_capacity(graph.weights.len());
        for w in &graph.weights {
            let Some((array, key)) = given.remove(&w.path) else {
                problems.push(format!(
                    "missing `{}` (shape {:?}): no key of the file maps to it",
                    w.path, w.shape
                ));
                continue;
            };
            let shape: Vec<usize> = array.shape().iter().map(|&d| d as usize).collect();
            if shape != w.shape {
                problems.push(format!(
                    "`{}` (from `{key}`): expected shape {:?}, found {:?}",
                    w.path, w.shape, shape
                ));
                continue;
            }
            if !array.dtype().is_float() {
                problems.push(format!(
                    "`{}` (from `{key}`): expected a floating-point tensor, found {:?}",
                    w.path,
                    array.dtype()
                ));
                continue;
            }
            arrays.push(array.as_dtype(dtype.mlx())?);
        }
        let mut extra: Vec<(String, String)> = given
            .into_iter()
            .map(|(param, (_, key))| (key, param))
            .collect();
        extra.sort();
        for (key, param) in extra {
            problems.push(format!(
                "unexpected `{key}`: the mapping makes it `{param}`, which the model does not have"
            ));
        }
        if !problems.is_empty() {
            return Err(mismatch(problems));
        }
        mlx_rs::transforms::eval(arrays.iter())?;
        M::Params::from_weights(&mut arrays.into_iter(), &graph.weights)
            .ok_or_else(|| mismatch(vec!["the parameters do not fit the model's tree".into()]))
    }

    /// [`Mapping::import_graph`] of a model.
    pub fn import<M: crate::Model>(
        &self,
        path: impl AsRef<Path>,
        dtype: DType,
    ) -> Result<M::Params> {
        self.import_graph::<M>(M::graph(), path, dtype)
    }

    /// Writes `params` of `graph` to `path` under the checkpoint's names,
    /// atomically: fused tensors concatenated again, each in its
    /// parameter's dtype.
    pub fn export_graph<M: Family>(
        &self,
        graph: &Graph,
        params: &M::Params,
        path: impl AsRef<Path>,
    ) -> Result<()> {
        let path = path.as_ref();
        let arrays: HashMap<&str, Array> = graph
            .weights
            .iter()
            .map(|w| w.path.as_str())
            .zip(params.to_arrays())
            .collect();
        let mut tensors: BTreeMap<String, Array> = BTreeMap::new();
        let mut problems = Vec::new();
        let mut used: Vec<&str> = Vec::new();
        // Each rule, for every capture its parameters take in the graph.
        for rule in &self.rules {
            let (params, first) = match rule {
                Rule::Skip { .. } | Rule::Tied { .. } => continue,
                Rule::Rename { param, .. } => (std::slice::from_ref(param), param),
                Rule::Split { params, .. } => (&params[..], &params[0]),
            };
            for w in &graph.weights {
                let Some(captures) = first.matches(&w.path) else {
                    continue;
                };
                let Some(key) = rule.key().fill(&captures) else {
                    continue;
                };
                let mut parts = Vec::with_capacity(params.len());
                for p in params {
                    match p
                        .fill(&captures)
                        .and_then(|n| arrays.get_key_value(n.as_str()))
                    {
                        Some((name, a)) => {
                            used.push(name);
                            parts.push(a.clone());
                        }
                        None => problems.push(format!(
                            "`{key}`: the model has no `{}`",
                            p.fill(&captures).unwrap_or_else(|| p.to_string())
                        )),
                    }
                }
                if parts.len() != params.len() {
                    continue;
                }
                let tensor = match rule {
                    Rule::Rename {
                        axes: None,
                        squeeze: Some(axis),
                        ..
                    } => parts[0].expand_dims(*axis as i32)?,
                    Rule::Rename { axes: None, .. } => parts[0].clone(),
                    Rule::Rename {
                        axes: Some(axes), ..
                    } => {
                        // Back: the tensor's axis `axes[k]` is the parameter's `k`.
                        let mut inverse = vec![0i32; axes.len()];
                        for (k, &a) in axes.iter().enumerate() {
                            if let Some(slot) = inverse.get_mut(a) {
                                *slot = k as i32;
                            }
                        }
                        parts[0].transpose_axes(&inverse)?
                    }
                    Rule::Split {
                        axis, transpose, ..
                    } => {
                        let parts = parts
                            .iter()
                            .map(|a| transposed(a, *transpose))
                            .collect::<Result<Vec<_>>>()?;
                        ops::concatenate(&parts, *axis as i32)?
                    }
                    Rule::Skip { .. } | Rule::Tied { .. } => continue,
                };
                tensors.insert(key, tensor);
            }
        }
        for w in &graph.weights {
            if !used.contains(&w.path.as_str()) {
                problems.push(format!("`{}`: no rule of the mapping writes it", w.path));
            }
        }
        if !problems.is_empty() {
            return Err(Error::Mismatch {
                path: path.to_path_buf(),
                model: M::NAME,
                problems,
            });
        }
        let mut bytes = Vec::with_capacity(tensors.len());
        for (key, array) in &tensors {
            bytes.push((key.clone(), to_bytes(&format!("`{key}`"), array)?));
        }
        let file = safetensors::serialize(bytes.iter().map(|(k, v)| (k.as_str(), v)), None)
            .map_err(|e| Error::Format {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        write_atomically(path, &file)
    }

    /// [`Mapping::export_graph`] of a model.
    pub fn export<M: crate::Model>(
        &self,
        params: &M::Params,
        path: impl AsRef<Path>,
    ) -> Result<()> {
        self.export_graph::<M>(M::graph(), params, path)
    }
}

/// `a` transposed when `transpose` (a 2-D weight), contiguous for writing.
fn transposed(a: &Array, transpose: bool) -> Result<Array> {
    Ok(match transpose {
        true => a.t(),
        false => a.clone(),
    })
}

/// `a` cut into `n` equal parts along `axis`.
fn split(a: &Array, axis: usize, n: usize) -> std::result::Result<Vec<Array>, String> {
    let size = *a
        .shape()
        .get(axis)
        .ok_or_else(|| format!("no axis {axis} to split in shape {:?}", a.shape()))?;
    if n == 0 || !(size as usize).is_multiple_of(n) {
        return Err(format!(
            "axis {axis} of shape {:?} does not split into {n} equal parts",
            a.shape()
        ));
    }
    let step = size / n as i32;
    let parts = (0..n as i32)
        .map(|k| {
            let index =
                Array::from_slice(&(k * step..(k + 1) * step).collect::<Vec<i32>>(), &[step]);
            a.take_axis(&index, axis as i32)
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_capture_indices() {
        let p = Pattern::new("transformer.h.{i}.attn.c_attn.weight");
        let c = p.matches("transformer.h.11.attn.c_attn.weight").unwrap();
        assert_eq!(c, vec![("i".to_string(), "11".to_string())]);
        assert!(p.matches("transformer.h.x.attn.c_attn.weight").is_none());
        assert!(p.matches("transformer.h.1.attn.c_attn").is_none());
        assert_eq!(
            Pattern::new("h.{i}.attn.query_proj.weight")
                .fill(&c)
                .unwrap(),
            "h.11.attn.query_proj.weight"
        );
        assert_eq!(p.to_string(), "transformer.h.{i}.attn.c_attn.weight");
    }

    #[test]
    fn captures_with_an_offset() {
        // torchvision's block j + 1 of a stage is its `rest.j`.
        let key = Pattern::new("layer2.{j+1}.conv1.weight");
        let param = Pattern::new("layer2.rest.{j}.conv1.weight");
        let c = key.matches("layer2.3.conv1.weight").unwrap();
        assert_eq!(param.fill(&c).unwrap(), "layer2.rest.2.conv1.weight");
        assert!(key.matches("layer2.0.conv1.weight").is_none());
        let back = param.matches("layer2.rest.0.conv1.weight").unwrap();
        assert_eq!(key.fill(&back).unwrap(), "layer2.1.conv1.weight");
        assert_eq!(key.to_string(), "layer2.{j+1}.conv1.weight");
    }
}

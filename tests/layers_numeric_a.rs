//! Numeric checks of the layers of issue 6 part A: `Conv1d`, `MaxPool1d`,
//! `AvgPool1d`, `Embedding`, `LayerNorm`, `RmsNorm`, `GroupNorm`, `Softplus`,
//! `Silu`, `GeluApprox`, `GeluFast`, `Permute`, `Transpose`, `Squeeze`,
//! `Unsqueeze`, `Slice`, `Mean`, `Sum`, `Max` and `Cast`.
//!
//! 1. Against Python MLX: each case of `tests/fixtures/layers/cases_a.json`
//!    (made with MLX 0.32.2 by `scripts/fixtures/make_layer_fixtures.py`,
//!    format in `scripts/fixtures/README.md`) runs as a one-layer model
//!    through `evaluate_with_gradients` with the fixture's parameters, inputs
//!    and cotangent, compiled and eager. Output, input gradients and
//!    parameter gradients must match the fixture, and the two modes each
//!    other. `Embedding`'s int32 indices have no gradient in the fixture;
//!    Mithril's must be all zeros.
//! 2. Against central finite differences: the vector-Jacobian product of every
//!    case (on the fixture data, and on variants the fixtures lack) is
//!    compared with finite differences of L = sum(output * cotangent) with
//!    respect to every element of every float input and parameter. In
//!    float64 where MLX computes the op in float64 on the CPU; see the `Fd`
//!    constants for the steps and tolerances and why they differ.
//!
//! `cargo test --test layers_numeric_a -- --nocapture` prints the tables of
//! the largest errors (and the share of the tolerance they use).

use std::collections::HashMap;
use std::fmt;

use mithril::mlx_rs::{Array, Dtype};
use mithril::{Device, MlxBackend, Model, Params, Values};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/layers");
const INDEX: &str = "cases_a.json";

/// Mithril (f32) vs the Python MLX fixture (f32): the same MLX version on the
/// same device, so only reassociation-level differences are expected.
const FIXTURE_TOL: Tol = Tol {
    atol: 2e-6,
    rtol: 1e-5,
};

/// Compiled vs eager.
const MODES_TOL: Tol = Tol {
    atol: 1e-6,
    rtol: 1e-6,
};

/// Finite differences in float64 with a small step, for ops MLX computes to
/// float64 accuracy on the CPU (pools, lookups, layout ops, sums, means,
/// maxima, and `GroupNorm`'s mean / variance / rsqrt): truncation (step^2)
/// and rounding (1e-16 / step) are both far below the tolerance.
const F64: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1e-6,
    tol: Tol {
        atol: 1e-8,
        rtol: 1e-7,
    },
    quantise: false,
};

/// Finite differences in float64 with a larger step, for activations built
/// on `exp` or `tanh` (`Softplus`, `Silu`, `GeluApprox`, `GeluFast`): MLX
/// 0.32's CPU `exp` on a float64 array is only float32-accurate, so every
/// loss carries noise of about 1e-7 absolute; this step balances it (about
/// 1e-7 / step) against truncation (about step^2 / 6).
const F64_EXP: Fd = Fd {
    dtype: Dtype::Float64,
    step: 3e-3,
    tol: Tol {
        atol: 2e-5,
        rtol: 2e-5,
    },
    quantise: false,
};

/// Finite differences in float32, for `Conv1d`: MLX 0.32's CPU convolution
/// has no float64 kernel. A convolution is affine in each input element and
/// in each weight element, so the central difference has no truncation
/// error and only float32 rounding (about 1e-7 * |L| / step) remains.
const F32_AFFINE: Fd = Fd {
    dtype: Dtype::Float32,
    step: 1e-2,
    tol: Tol {
        atol: 5e-5,
        rtol: 5e-5,
    },
    quantise: false,
};

/// Finite differences in float64 for `mx.fast.layer_norm` and
/// `mx.fast.rms_norm` (`LayerNorm`, `RmsNorm`, `GroupNorm` with
/// `pytorch_compatible`): on the CPU both fall back to ops computed in
/// float32 whatever the input type, so the loss carries float32 rounding
/// noise (up to a few 1e-6 absolute on these cases) that a step of 1e-2
/// turns into up to a few 1e-4 where gradients are large (no affine scale);
/// truncation (step^2 / 6 times a third derivative of order 1 / std(x)^3)
/// stays below that for inputs of unit scale.
const F64_FAST_NORM: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1e-2,
    tol: Tol {
        atol: 2e-4,
        rtol: 2e-4,
    },
    quantise: false,
};

/// As [`F64_FAST_NORM`] for inputs of scale 0.1 (`layer_norm_nobias_eps`),
/// whose curvature is 1000 times larger: a 10 times smaller step and a
/// looser tolerance for the larger rounding term.
const F64_FAST_NORM_SMALL: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1e-3,
    tol: Tol {
        atol: 4e-4,
        rtol: 4e-4,
    },
    quantise: false,
};

/// Finite differences for `Cast`, on its inputs rounded to multiples of 1/64
/// (within [-4, 4]) with a step of 1/64: every value, and the value one step
/// either side, is exact in float16 and bfloat16, so the casts round nothing
/// and the central difference is exact.
const CAST_FD: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1.0 / 64.0,
    tol: Tol {
        atol: 1e-12,
        rtol: 1e-12,
    },
    quantise: true,
};

// ---------------------------------------------------------------------------
// Comparing arrays

/// An elementwise tolerance: |got - want| <= atol + rtol * |want|.
#[derive(Clone, Copy, Debug)]
struct Tol {
    atol: f64,
    rtol: f64,
}

/// The outcome of comparisons that passed: the largest |got - want| and the
/// largest share of an element's allowance used (1.0 = at the tolerance).
#[derive(Clone, Copy, Debug, Default)]
struct Worst {
    abs: f64,
    used: f64,
}

impl Worst {
    fn max(self, other: Worst) -> Worst {
        Worst {
            abs: self.abs.max(other.abs),
            used: self.used.max(other.used),
        }
    }
}

impl fmt::Display for Worst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cell = format!("{:.1e} ({:.0}%)", self.abs, 100.0 * self.used);
        f.pad(&cell)
    }
}

/// An array's elements as f64, row-major (this evaluates it: MLX errors show here).
fn values(a: &Array) -> Result<Vec<f64>, String> {
    let a = a
        .as_dtype(Dtype::Float64)
        .and_then(|a| a.contiguous())
        .map_err(|e| e.to_string())?;
    a.to_vec_exact::<f64>().map_err(|e| e.to_string())
}

fn is_integer(dtype: Dtype) -> bool {
    matches!(
        dtype,
        Dtype::Int8
            | Dtype::Int16
            | Dtype::Int32
            | Dtype::Int64
            | Dtype::Uint8
            | Dtype::Uint16
            | Dtype::Uint32
            | Dtype::Uint64
    )
}

/// The multi-index of flat element `i` of an array of `shape`.
fn unravel(mut i: usize, shape: &[i32]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (axis, &n) in shape.iter().enumerate().rev() {
        index[axis] = i % n as usize;
        i /= n as usize;
    }
    index
}

/// Compares `got` with `want` elementwise within `tol` (dtypes must agree);
/// the error names the worst element (the one furthest beyond its allowance).
fn compare(what: &str, got: &Array, want: &Array, tol: Tol) -> Result<Worst, String> {
    if got.shape() != want.shape() || got.dtype() != want.dtype() {
        return Err(format!(
            "{what}: {:?} {:?}, expected {:?} {:?}",
            got.dtype(),
            got.shape(),
            want.dtype(),
            want.shape()
        ));
    }
    let (g, w) = (values(got)?, values(want)?);
    let mut worst = Worst::default();
    let mut worst_at = 0;
    for (i, (&x, &y)) in g.iter().zip(&w).enumerate() {
        let diff = (x - y).abs();
        let diff = if diff.is_nan() { f64::INFINITY } else { diff };
        let used = diff / (tol.atol + tol.rtol * y.abs());
        if used > worst.used {
            worst_at = i;
        }
        worst = worst.max(Worst { abs: diff, used });
    }
    if worst.used <= 1.0 {
        return Ok(worst);
    }
    let i = worst_at;
    Err(format!(
        "{what}: element {:?} is {:.9e}, expected {:.9e} (|diff| {:.3e} > {:.3e}); max |diff| {:.3e}",
        unravel(i, got.shape()),
        g[i],
        w[i],
        (g[i] - w[i]).abs(),
        tol.atol + tol.rtol * w[i].abs(),
        worst.abs,
    ))
}

// ---------------------------------------------------------------------------
// Running one-layer models

/// The parameter names of a one-layer model (`weight`, `bias`), in the graph's order.
fn weight_names<M: Model>() -> Vec<String> {
    mithril::graph_of::<M>()
        .weights
        .iter()
        .map(|w| {
            w.path
                .strip_prefix("layer.")
                .unwrap_or_else(|| panic!("{}: parameter `{}` outside `layer`", M::NAME, w.path))
                .to_string()
        })
        .collect()
}

/// The layer call as the model writes it (`Conv1d(filters=4,kernel=3)`),
/// without the layer's name and without spaces.
fn layer_call<M: Model>() -> String {
    let call = &mithril::graph_of::<M>().nodes[0].call;
    let call: String = call.chars().filter(|c| !c.is_whitespace()).collect();
    call.strip_prefix("layer:").unwrap_or(&call).to_string()
}

fn backend(graph_mode: bool) -> Result<MlxBackend, String> {
    MlxBackend::builder()
        .device(Device::Cpu)
        .graph_mode(graph_mode)
        .build()
        .map_err(|e| e.to_string())
}

/// `evaluate_with_gradients` of the output `y` with `cotangent`, on the CPU,
/// as named arrays with the fixtures' keys: `output`, `grad.input.<name>`,
/// `grad.weight.<name>`.
fn evaluate<M: Model>(
    graph_mode: bool,
    weights: &[Array],
    inputs: &[Array],
    cotangent: &Array,
) -> Result<Vec<(String, Array)>, String> {
    let backend = backend(graph_mode)?;
    let params = M::Params::from_arrays(&mut weights.iter().cloned()).ok_or("too few weights")?;
    let model_inputs = M::Inputs::from_arrays(inputs.to_vec()).ok_or("too few inputs")?;
    let mut model = mithril::compile::<M>(&backend);
    let (out, grads) = model
        .evaluate_with_gradients(&params, &model_inputs, &[("y", cotangent.clone())])
        .map_err(|e| e.to_string())?;
    let mut named = vec![("output".to_string(), out.arrays()[0].clone())];
    for (name, g) in M::Inputs::NAMES.iter().zip(grads.inputs.arrays()) {
        named.push((format!("grad.input.{name}"), g.clone()));
    }
    for (name, g) in weight_names::<M>().iter().zip(grads.params.to_arrays()) {
        named.push((format!("grad.weight.{name}"), g));
    }
    Ok(named)
}

/// The forward output alone.
fn forward<M: Model>(
    graph_mode: bool,
    weights: &[Array],
    inputs: &[Array],
) -> Result<Array, String> {
    let backend = backend(graph_mode)?;
    let params = M::Params::from_arrays(&mut weights.iter().cloned()).ok_or("too few weights")?;
    let model_inputs = M::Inputs::from_arrays(inputs.to_vec()).ok_or("too few inputs")?;
    let out = mithril::compile::<M>(&backend)
        .evaluate(&params, &model_inputs)
        .map_err(|e| e.to_string())?;
    Ok(out.arrays()[0].clone())
}

// ---------------------------------------------------------------------------
// The checks

/// The largest errors of one case, for the table.
#[derive(Clone, Copy, Debug, Default)]
struct Errors {
    /// Mithril vs the fixture, both modes; `None` without a fixture.
    fixture: Option<Worst>,
    /// Compiled vs eager; `None` without a fixture.
    modes: Option<Worst>,
    /// VJP vs finite differences, both modes.
    fd: Worst,
}

/// Checks a fixture case in both modes against the fixture and each other,
/// then its VJP against finite differences on the fixture's data.
fn check_fixture<M: Model>(case: &str, fd: Fd) -> Result<Errors, String> {
    let path = format!("{FIXTURES}/{case}.safetensors");
    let fixture = Array::load_safetensors(&path).map_err(|e| format!("{path}: {e}"))?;
    let get = |key: &str| {
        fixture
            .get(key)
            .cloned()
            .ok_or_else(|| format!("{case}: no `{key}` in the fixture"))
    };
    let weights = weight_names::<M>()
        .iter()
        .map(|n| get(&format!("weight.{n}")))
        .collect::<Result<Vec<_>, _>>()?;
    let inputs = M::Inputs::NAMES
        .iter()
        .map(|n| get(&format!("input.{n}")))
        .collect::<Result<Vec<_>, _>>()?;
    let cotangent = get("cotangent")?;

    let compiled = evaluate::<M>(true, &weights, &inputs, &cotangent)
        .map_err(|e| format!("{case} compiled: {e}"))?;
    let eager = evaluate::<M>(false, &weights, &inputs, &cotangent)
        .map_err(|e| format!("{case} eager: {e}"))?;
    // Integer inputs have no gradient in the fixture; Mithril's is zero.
    let mut checked = 0;
    let (mut vs_fixture, mut modes) = (Worst::default(), Worst::default());
    for ((key, c), (_, e)) in compiled.iter().zip(&eager) {
        if let Some(name) = key.strip_prefix("grad.input.") {
            let input = get(&format!("input.{name}"))?;
            if is_integer(input.dtype()) {
                for (mode, g) in [("compiled", c), ("eager", e)] {
                    if g.shape() != input.shape() || values(g)?.iter().any(|&v| v != 0.0) {
                        return Err(format!(
                            "{case} {mode}: the gradient of integer input `{name}` is not all zeros"
                        ));
                    }
                }
                continue;
            }
        }
        checked += 1;
        let want = get(key)?;
        for (mode, got) in [("compiled", c), ("eager", e)] {
            let what = format!("{case} {mode} {key}");
            vs_fixture = vs_fixture.max(compare(&what, got, &want, FIXTURE_TOL)?);
        }
        let what = format!("{case} compiled vs eager {key}");
        modes = modes.max(compare(&what, c, e, MODES_TOL)?);
    }
    // Every expectation of the fixture has its array.
    let expected = fixture
        .keys()
        .filter(|k| *k == "output" || k.starts_with("grad."))
        .count();
    if checked != expected {
        return Err(format!(
            "{case}: Mithril gives {checked} comparable arrays, the fixture has {expected}"
        ));
    }
    Ok(Errors {
        fixture: Some(vs_fixture),
        modes: Some(modes),
        fd: fd_check::<M>(case, &weights, &inputs, &cotangent, fd)?,
    })
}

/// Checks a model without a fixture (literal input shapes) against finite
/// differences, with pseudo-random inputs, parameters and cotangent.
fn check_fd_only<M: Model>(case: &str, fd: Fd) -> Result<Errors, String> {
    let graph = mithril::graph_of::<M>();
    let known = |s: &mithril::core::Shape| {
        s.as_known()
            .unwrap_or_else(|| panic!("{case}: give the inputs literal shapes"))
    };
    let mut seed = 0;
    let mut next = |shape: &[usize]| {
        seed += 1;
        pseudo_random(seed, shape)
    };
    let weights: Vec<Array> = graph.weights.iter().map(|w| next(&w.shape)).collect();
    let inputs: Vec<Array> = graph
        .inputs
        .iter()
        .map(|i| next(&known(&i.shape)))
        .collect();
    let cotangent = next(&known(&graph.outputs[0].shape));
    Ok(Errors {
        fd: fd_check::<M>(case, &weights, &inputs, &cotangent, fd)?,
        ..Errors::default()
    })
}

/// Values in [-1, 1) from a 64-bit LCG, as an f64 array.
fn pseudo_random(seed: u64, shape: &[usize]) -> Array {
    let step = |s: u64| {
        s.wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
    };
    let mut state = step(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|_| {
            state = step(state);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect();
    let shape: Vec<i32> = shape.iter().map(|&d| d as i32).collect();
    Array::from_slice_f64(&v, &shape)
}

/// How a finite-difference check runs.
#[derive(Clone, Copy, Debug)]
struct Fd {
    /// The dtype of the model's float inputs and parameters.
    dtype: Dtype,
    /// The step h of (L(x + h) - L(x - h)) / 2h.
    step: f64,
    /// VJP vs finite differences.
    tol: Tol,
    /// Round float inputs and parameters to multiples of 1/64, clamped to
    /// [-4, 4], before differencing.
    quantise: bool,
}

/// Compares the VJP of both modes with central finite differences of
/// L = sum(y * cotangent) (forward passes with float primals in `fd.dtype`,
/// the cotangent in the output's dtype, L summed in f64), one element of one
/// float input or parameter at a time. Integer inputs stay as they are.
fn fd_check<M: Model>(
    case: &str,
    weights: &[Array],
    inputs: &[Array],
    cotangent: &Array,
    fd: Fd,
) -> Result<Worst, String> {
    let cast = |a: &Array| {
        if is_integer(a.dtype()) {
            Ok(a.clone())
        } else {
            a.as_dtype(fd.dtype).map_err(|e| e.to_string())
        }
    };
    let prepare = |a: &Array| -> Result<Array, String> {
        if !fd.quantise || is_integer(a.dtype()) {
            return cast(a);
        }
        let v: Vec<f64> = values(a)?
            .iter()
            .map(|x| (x.clamp(-4.0, 4.0) * 64.0).round() / 64.0)
            .collect();
        cast(&Array::from_slice_f64(&v, a.shape()))
    };
    // What `fd.dtype` stores for x.
    let round = |x: f64| match fd.dtype {
        Dtype::Float32 => x as f32 as f64,
        _ => x,
    };
    let weights = weights.iter().map(prepare).collect::<Result<Vec<_>, _>>()?;
    let inputs = inputs.iter().map(prepare).collect::<Result<Vec<_>, _>>()?;
    // The cotangent takes the output's dtype (a `Cast` changes it).
    let out_dtype = forward::<M>(false, &weights, &inputs)
        .map_err(|e| format!("{case} forward ({:?}): {e}", fd.dtype))?
        .dtype();
    let cotangent = cotangent.as_dtype(out_dtype).map_err(|e| e.to_string())?;
    let cot = values(&cotangent)?;

    let backend = backend(false)?;
    let mut model = mithril::compile::<M>(&backend);
    let mut loss = |primals: &[Array]| -> Result<f64, String> {
        let (weights, inputs) = primals.split_at(weights.len());
        let params = M::Params::from_arrays(&mut weights.iter().cloned()).ok_or("weights")?;
        let inputs = M::Inputs::from_arrays(inputs.to_vec()).ok_or("inputs")?;
        let out = model
            .evaluate(&params, &inputs)
            .map_err(|e| e.to_string())?;
        Ok(values(out.arrays()[0])?
            .iter()
            .zip(&cot)
            .map(|(y, c)| y * c)
            .sum())
    };

    // The differences, under the VJP's names, in the order weights then inputs.
    let names = weight_names::<M>()
        .into_iter()
        .map(|n| format!("grad.weight.{n}"))
        .chain(M::Inputs::NAMES.iter().map(|n| format!("grad.input.{n}")));
    let mut primals: Vec<Array> = weights.iter().chain(&inputs).cloned().collect();
    let mut differences = Vec::new();
    for (k, name) in names.enumerate() {
        let original = primals[k].clone();
        if is_integer(original.dtype()) {
            continue;
        }
        let base = values(&original)?;
        let mut grad = vec![0.0; base.len()];
        for (j, g) in grad.iter_mut().enumerate() {
            let mut loss_at = |x: f64| {
                let mut v = base.clone();
                v[j] = x;
                primals[k] = cast(&Array::from_slice_f64(&v, original.shape()))?;
                loss(&primals).map_err(|e| format!("{case} FD forward ({name}): {e}"))
            };
            let (hi, lo) = (round(base[j] + fd.step), round(base[j] - fd.step));
            *g = (loss_at(hi)? - loss_at(lo)?) / (hi - lo);
        }
        primals[k] = original.clone();
        let fd_grad = Array::from_slice_f64(&grad, original.shape())
            .as_dtype(fd.dtype)
            .map_err(|e| e.to_string())?;
        differences.push((name, fd_grad));
    }

    let mut worst = Worst::default();
    for graph_mode in [true, false] {
        let mode = if graph_mode { "compiled" } else { "eager" };
        let vjp = evaluate::<M>(graph_mode, &weights, &inputs, &cotangent)
            .map_err(|e| format!("{case} {mode} ({:?}): {e}", fd.dtype))?;
        for (name, want) in &differences {
            let (_, got) = vjp
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| format!("{case}: no {name}"))?;
            let what = format!("{case} {mode} {name} vs FD ({:?})", fd.dtype);
            worst = worst.max(compare(&what, got, want, fd.tol)?);
        }
    }
    Ok(worst)
}

// ---------------------------------------------------------------------------
// The models: one layer named `layer`, output `y`.

/// A one-layer model: `x -> layer: <call> => y`.
macro_rules! layer_model {
    ($model:ident, x: [$($x:tt)*], $($layer:tt)+) => {
        mithril::model! {
            $model {
                input x: [$($x)*];
                x -> layer: $($layer)+ => y;
                output y;
            }
        }
    };
}

// The fixture cases: the layer calls of cases_a.json, the fixtures' input shapes.
layer_model!(Conv1dCase, x: [B, 9, 3], Conv1d(filters = 4, kernel = 3));
layer_model!(Conv1dSameCase, x: [B, 8, 2],
    Conv1d(filters = 3, kernel = 3, padding = same, dilation = 2));
layer_model!(Conv1dStrideCase, x: [B, 10, 3],
    Conv1d(filters = 2, kernel = 4, stride = 2, padding = 1, bias = false));
layer_model!(MaxPool1dCase, x: [B, 8, 3], MaxPool1d(2));
layer_model!(MaxPool1dPaddedCase, x: [B, 9, 2], MaxPool1d(kernel = 3, stride = 2, padding = 1));
layer_model!(AvgPool1dCase, x: [B, 7, 3], AvgPool1d(2));
layer_model!(AvgPool1dPaddedCase, x: [B, 6, 2], AvgPool1d(kernel = 3, stride = 1, padding = 1));
layer_model!(EmbeddingCase, x: [B, T], Embedding(10, 4));
layer_model!(LayerNormCase, x: [B, 3, 6], LayerNorm);
layer_model!(LayerNormNoAffineCase, x: [B, 5], LayerNorm(affine = false));
layer_model!(LayerNormNoBiasCase, x: [B, 5], LayerNorm(eps = 0.001, bias = false));
layer_model!(RmsNormCase, x: [B, 3, 6], RmsNorm);
layer_model!(GroupNormCase, x: [B, 4, 6], GroupNorm(3));
layer_model!(GroupNormPytorchCase, x: [B, 3, 3, 4],
    GroupNorm(groups = 2, pytorch_compatible = true));
layer_model!(GroupNormRank2Case, x: [B, 8], GroupNorm(groups = 2, affine = false));
layer_model!(SoftplusCase, x: [3, 7], Softplus);
layer_model!(SiluCase, x: [3, 7], Silu);
layer_model!(GeluApproxCase, x: [3, 7], GeluApprox);
layer_model!(GeluFastCase, x: [3, 7], GeluFast);
layer_model!(PermuteCase, x: [B, 3, 4], Permute([0, 2, 1]));
layer_model!(Permute4dCase, x: [2, 3, 4, 5], Permute([2, 0, -1, 1]));
layer_model!(TransposeCase, x: [B, 3, 4, 5], Transpose(1, 2));
layer_model!(SqueezeCase, x: [B, 1, 4], Squeeze(1));
layer_model!(UnsqueezeCase, x: [B, 4], Unsqueeze(-1));
layer_model!(SliceCase, x: [B, 6, 3], Slice(1, 1, -1));
layer_model!(SliceStepCase, x: [B, 3, 7], Slice(axis = 2, start = -5, step = 2));
layer_model!(MeanCase, x: [B, 3, 4], Mean(axes = 1));
layer_model!(MeanAllCase, x: [3, 4], Mean);
layer_model!(SumKeepdimsCase, x: [2, 3, 4], Sum(axes = [0, 2], keepdims = true));
layer_model!(MaxCase, x: [B, 5], Max(axes = -1));
layer_model!(CastF16Case, x: [B, 4], Cast(f16));
layer_model!(CastBf16Case, x: [B, 4], Cast(bf16));
layer_model!(CastF32Case, x: [B, 4], Cast(f32));

// Variants without fixtures, checked against finite differences only.
layer_model!(Conv1dDilatedCase, x: [1, 9, 2],
    Conv1d(filters = 2, kernel = 3, stride = 2, padding = 2, dilation = 2));
layer_model!(Conv1dSameK5Case, x: [1, 6, 2], Conv1d(3, 5, padding = same));
layer_model!(MaxPool1dOverlapCase, x: [2, 5, 2], MaxPool1d(kernel = 2, stride = 1));
layer_model!(AvgPool1dStrideCase, x: [1, 8, 2], AvgPool1d(kernel = 4, stride = 3, padding = 2));
layer_model!(LayerNormRank1Case, x: [6], LayerNorm(eps = 0.01));
layer_model!(RmsNormEpsCase, x: [3, 4], RmsNorm(eps = 0.01));
layer_model!(GroupNorm4dCase, x: [2, 2, 3, 8], GroupNorm(groups = 4, eps = 0.001));
layer_model!(GroupNormPytorchPlainCase, x: [2, 4, 6],
    GroupNorm(groups = 3, affine = false, pytorch_compatible = true));
layer_model!(PermuteNegativeCase, x: [2, 3, 4], Permute([-1, 0, 1]));
layer_model!(TransposeNegativeCase, x: [2, 3, 4], Transpose(0, -1));
layer_model!(SqueezeLastCase, x: [3, 4, 1], Squeeze(-1));
layer_model!(UnsqueezeFrontCase, x: [3, 4], Unsqueeze(0));
layer_model!(SliceStep3Case, x: [9, 2], Slice(axis = 0, start = 1, end = 8, step = 3));
layer_model!(MeanKeepdimsCase, x: [2, 3], Mean(keepdims = true));
layer_model!(SumAllCase, x: [2, 3], Sum);
layer_model!(MaxPairCase, x: [2, 3, 4], Max(axes = [0, 2]));
layer_model!(CastF16ExactCase, x: [3, 4], Cast(f16));
layer_model!(CastBf16ExactCase, x: [3, 4], Cast(bf16));
layer_model!(CastF32ExactCase, x: [3, 4], Cast(f32));

// ---------------------------------------------------------------------------
// The tables

/// A row of a table.
struct Case {
    name: &'static str,
    /// The layer call of its model.
    call: fn() -> String,
    /// How its finite-difference check runs.
    fd: Fd,
    check: fn(&str, Fd) -> Result<Errors, String>,
}

macro_rules! cases {
    ($check:ident: $($name:literal => $model:ident: $fd:ident),* $(,)?) => {
        &[$(Case {
            name: $name,
            call: layer_call::<$model>,
            fd: $fd,
            check: $check::<$model>,
        }),*]
    };
}

const FIXTURE_CASES: &[Case] = cases! { check_fixture:
    "conv1d" => Conv1dCase: F32_AFFINE,
    "conv1d_same_dilation2" => Conv1dSameCase: F32_AFFINE,
    "conv1d_stride2_pad1_nobias" => Conv1dStrideCase: F32_AFFINE,
    "maxpool1d" => MaxPool1dCase: F64,
    "maxpool1d_k3_s2_p1" => MaxPool1dPaddedCase: F64,
    "avgpool1d" => AvgPool1dCase: F64,
    "avgpool1d_k3_s1_p1" => AvgPool1dPaddedCase: F64,
    "embedding" => EmbeddingCase: F64,
    "layer_norm" => LayerNormCase: F64_FAST_NORM,
    "layer_norm_noaffine" => LayerNormNoAffineCase: F64_FAST_NORM,
    "layer_norm_nobias_eps" => LayerNormNoBiasCase: F64_FAST_NORM_SMALL,
    "rms_norm" => RmsNormCase: F64_FAST_NORM,
    "group_norm" => GroupNormCase: F64,
    "group_norm_pytorch" => GroupNormPytorchCase: F64_FAST_NORM,
    "group_norm_noaffine_rank2" => GroupNormRank2Case: F64,
    "softplus" => SoftplusCase: F64_EXP,
    "silu" => SiluCase: F64_EXP,
    "gelu_approx" => GeluApproxCase: F64_EXP,
    "gelu_fast" => GeluFastCase: F64_EXP,
    "permute" => PermuteCase: F64,
    "permute_4d" => Permute4dCase: F64,
    "transpose" => TransposeCase: F64,
    "squeeze" => SqueezeCase: F64,
    "unsqueeze" => UnsqueezeCase: F64,
    "slice" => SliceCase: F64,
    "slice_step" => SliceStepCase: F64,
    "mean" => MeanCase: F64,
    "mean_all" => MeanAllCase: F64,
    "sum_keepdims" => SumKeepdimsCase: F64,
    "max" => MaxCase: F64,
    "cast_f16" => CastF16Case: CAST_FD,
    "cast_bf16" => CastBf16Case: CAST_FD,
    "cast_f32" => CastF32Case: CAST_FD,
};

const FD_ONLY_CASES: &[Case] = cases! { check_fd_only:
    "conv1d_stride2_pad2_dilation2" => Conv1dDilatedCase: F32_AFFINE,
    "conv1d_same_kernel5" => Conv1dSameK5Case: F32_AFFINE,
    "maxpool1d_overlapping" => MaxPool1dOverlapCase: F64,
    "avgpool1d_k4_s3_p2" => AvgPool1dStrideCase: F64,
    "layer_norm_rank1" => LayerNormRank1Case: F64_FAST_NORM,
    "rms_norm_eps" => RmsNormEpsCase: F64_FAST_NORM,
    "group_norm_4d" => GroupNorm4dCase: F64,
    "group_norm_pytorch_noaffine" => GroupNormPytorchPlainCase: F64_FAST_NORM,
    "permute_negative" => PermuteNegativeCase: F64,
    "transpose_negative" => TransposeNegativeCase: F64,
    "squeeze_last" => SqueezeLastCase: F64,
    "unsqueeze_front" => UnsqueezeFrontCase: F64,
    "slice_step3" => SliceStep3Case: F64,
    "mean_keepdims_all" => MeanKeepdimsCase: F64,
    "sum_all" => SumAllCase: F64,
    "max_two_axes" => MaxPairCase: F64,
    "cast_f16_exact" => CastF16ExactCase: CAST_FD,
    "cast_bf16_exact" => CastBf16ExactCase: CAST_FD,
    "cast_f32_exact" => CastF32ExactCase: CAST_FD,
};

/// Runs every case (all of them, whatever fails), prints the table and fails
/// with every failure.
fn run_table(title: &str, cases: &[Case]) {
    let cell = |w: Option<Worst>| w.map_or("-".to_string(), |w| w.to_string());
    println!("\n{title}");
    println!(
        "{:30} {:66} {:>15} {:>15} {:>15}",
        "case", "layer", "vs MLX", "compiled/eager", "VJP vs FD"
    );
    let mut failures = Vec::new();
    for case in cases {
        let precision = match case.fd.dtype {
            Dtype::Float64 => "f64",
            _ => "f32",
        };
        let row = format!("{:30} {:66}", case.name, (case.call)());
        match (case.check)(case.name, case.fd) {
            Ok(e) => println!(
                "{row} {:>15} {:>15} {:>15} {precision}",
                cell(e.fixture),
                cell(e.modes),
                e.fd.to_string(),
            ),
            Err(e) => {
                println!("{row} FAILED");
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Tests

/// The fixture cases are exactly those of `cases_a.json`, with the same layer calls.
#[test]
fn fixture_cases_are_those_of_the_index() {
    let index = std::fs::read_to_string(format!("{FIXTURES}/{INDEX}")).unwrap();
    // Enough of a JSON reader for the index's `"case": "..."` and `"layer": "..."`.
    let strings = |key: &str| -> Vec<String> {
        let pattern = format!("\"{key}\": \"");
        index
            .match_indices(&pattern)
            .map(|(i, _)| {
                let rest = &index[i + pattern.len()..];
                rest[..rest.find('"').unwrap()].to_string()
            })
            .collect()
    };
    let layers: HashMap<String, String> = strings("case")
        .into_iter()
        .zip(strings("layer"))
        .map(|(c, l)| (c, l.chars().filter(|c| !c.is_whitespace()).collect()))
        .collect();
    assert_eq!(layers.len(), 33);
    assert_eq!(FIXTURE_CASES.len(), layers.len());
    for case in FIXTURE_CASES {
        let layer = layers
            .get(case.name)
            .unwrap_or_else(|| panic!("case `{}` is not in {INDEX}", case.name));
        assert_eq!(&(case.call)(), layer, "case `{}`", case.name);
    }
}

#[test]
fn layers_match_python_mlx_and_finite_differences() {
    run_table(
        "Fixture cases: max |diff| (share of tolerance); vs MLX and compiled/eager in the fixture's types",
        FIXTURE_CASES,
    );
}

#[test]
fn layer_variants_match_finite_differences() {
    run_table(
        "Variants without fixtures: VJP vs finite differences",
        FD_ONLY_CASES,
    );
}

/// Float indices are an error naming the layer and the dtype, in both
/// modes, not a panic.
#[test]
fn embedding_refuses_float_indices() {
    let weights = vec![pseudo_random(1, &[10, 4]).as_dtype(Dtype::Float32).unwrap()];
    let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3]);
    for graph_mode in [true, false] {
        let err =
            forward::<EmbeddingCase>(graph_mode, &weights, std::slice::from_ref(&x)).unwrap_err();
        assert!(
            err.contains("`Embedding(10, 4)` needs integer indices") && err.contains("Float32"),
            "graph mode {graph_mode}: {err}"
        );
    }
    // Integer indices of any width work.
    let ids = Array::from_slice(&[1i64, 9, 1], &[1, 3]);
    let y = forward::<EmbeddingCase>(false, &weights, &[ids]).unwrap();
    assert_eq!(y.shape(), &[1, 3, 4]);
}

mithril::model! {
    SymbolicSlices {
        input x: [B, T, 3];
        x -> inner: Slice(1, 1, -1) => inner;
        x -> head: Slice(axis = 1, start = 0, end = 4) => head;
        x -> tail: Slice(1, -2) => tail;
        output inner, head, tail;
    }
}

/// Slices of a symbolic axis: both ends counted from the same side, sized
/// symbolically (`T - 2`) or literally; a run with too short an axis is a
/// clear error.
#[test]
fn slices_of_symbolic_axes() {
    let graph = mithril::graph_of::<SymbolicSlices>();
    let shapes: Vec<String> = graph.outputs.iter().map(|o| o.shape.to_string()).collect();
    assert_eq!(shapes, ["[B, T - 2, 3]", "[B, 4, 3]", "[B, 2, 3]"]);

    let backend = backend(true).unwrap();
    let mut model = mithril::compile::<SymbolicSlices>(&backend);
    let x: Vec<f32> = (0..2 * 6 * 3).map(|i| i as f32).collect();
    let inputs = SymbolicSlicesInputs {
        x: Array::from_slice(&x, &[2, 6, 3]),
    };
    let out = model.evaluate(&SymbolicSlicesParams {}, &inputs).unwrap();
    assert_eq!(out.inner.shape(), &[2, 4, 3]);
    assert_eq!(out.head.shape(), &[2, 4, 3]);
    assert_eq!(out.tail.shape(), &[2, 2, 3]);
    // x[0, 1, 0] = 3, x[0, 4, 0] = 12.
    let tail = values(&out.tail).unwrap();
    assert_eq!(&tail[..3], &[12.0, 13.0, 14.0]);
    let inner = values(&out.inner).unwrap();
    assert_eq!(&inner[..3], &[3.0, 4.0, 5.0]);
    let head = values(&out.head).unwrap();
    assert_eq!(&head[..3], &[0.0, 1.0, 2.0]);

    let short = SymbolicSlicesInputs {
        x: Array::zeros::<f32>(&[2, 3, 3]).unwrap(),
    };
    let err = model
        .evaluate(&SymbolicSlicesParams {}, &short)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`Slice` 0..4 does not fit axis 1"), "{err}");
}

mithril::model! {
    InitCheck {
        input ids: [B, T];
        ids -> emb: Embedding(1000, 16) -> conv: Conv1d(8, 3) -> ln: LayerNorm
            -> rms: RmsNorm -> gn: GroupNorm(4) => y;
        output y;
    }
}

/// Parameter names, shapes and initialisation are mlx.nn's.
#[test]
fn parameters_follow_mlx_nn() {
    use mithril::core::layers::Init;
    let graph = mithril::graph_of::<InitCheck>();
    let specs: Vec<(&str, &[usize], Init)> = graph
        .weights
        .iter()
        .map(|w| (w.path.as_str(), &w.shape[..], w.init))
        .collect();
    let bound = (1.0f64 / 48.0).sqrt();
    assert_eq!(
        specs,
        [
            ("emb.weight", &[1000, 16][..], Init::Normal { std: 0.25 }),
            ("conv.weight", &[8, 3, 16][..], Init::Uniform { bound }),
            ("conv.bias", &[8][..], Init::Zeros),
            ("ln.weight", &[8][..], Init::Ones),
            ("ln.bias", &[8][..], Init::Zeros),
            ("rms.weight", &[8][..], Init::Ones),
            ("gn.weight", &[8][..], Init::Ones),
            ("gn.bias", &[8][..], Init::Zeros),
        ]
    );
    // Conv1d's window rule on the symbolic length, unsimplified: T - 2.
    assert_eq!(graph.outputs[0].shape.to_string(), "[B, T - 2, 8]");

    // The embedding table is drawn from N(0, 1/dims).
    let backend = MlxBackend::builder().seed(3).build().unwrap();
    let params = InitCheck::init(&backend).unwrap();
    let table: Vec<f32> = params.emb.weight.to_vec_exact().unwrap();
    let n = table.len() as f64;
    let mean = table.iter().map(|&v| v as f64).sum::<f64>() / n;
    let std = (table
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    assert!(
        mean.abs() < 0.01 && (std - 0.25).abs() < 0.01,
        "mean {mean}, std {std}"
    );
}

//! Numeric checks of every layer of the catalogue.
//!
//! 1. Against Python MLX: each case of `tests/fixtures/layers/` (made with
//!    MLX 0.32.2 by `scripts/fixtures/make_layer_fixtures.py`, format in
//!    `scripts/fixtures/README.md`) runs as a one-layer model through
//!    `evaluate_with_gradients` with the fixture's parameters, inputs and
//!    cotangent, compiled and eager. Output, input gradients and parameter
//!    gradients must match the fixture, and the two modes each other.
//! 2. Against central finite differences: the vector-Jacobian product of every
//!    layer kind (on the fixture data, and on variants the fixtures lack:
//!    strided, dilated and padded convolutions and pools, broadcasting, a
//!    three-way concat, `Lambda` custom ops) is compared with finite
//!    differences of L = sum(output * cotangent) with respect to every element
//!    of every input and parameter. In float64 where MLX can (all but
//!    `Conv2d`); see [`F64`], [`F64_EXP`] and [`F32_AFFINE`] for the steps and
//!    tolerances and why they differ.
//!
//! `cargo test --test layers_numeric -- --nocapture` prints the table of the
//! largest errors (and the share of the tolerance they use).

use std::collections::HashMap;
use std::fmt;

use mithril::mlx_rs::error::Exception;
use mithril::mlx_rs::{Array, Dtype, ops};
use mithril::{Device, MlxBackend, Model, Params, Values};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/layers");

/// Mithril (f32) vs the Python MLX fixture (f32): the same MLX build on the
/// CPU, but the fixtures used the wheel's reference BLAS and the workspace
/// OpenBLAS (docs/building.md), which sums matmuls and convolutions in another
/// order, and compiled (fused) kernels round differently from eager ones: up to
/// 1.9e-6 apart on gradients that sum a few dozen O(1) products.
const FIXTURE_TOL: Tol = Tol {
    atol: 2e-6,
    rtol: 1e-5,
};

/// Compiled vs eager (f32).
const MODES_TOL: Tol = Tol {
    atol: 1e-6,
    rtol: 1e-6,
};

/// Finite differences in float64 with a small step, for layers MLX computes
/// to f64 accuracy (affine maps, pools, reshapes, piecewise-linear
/// activations, tanh, products): truncation (step^2) and rounding
/// (1e-16 / step) are both far below the tolerance.
const F64: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1e-6,
    tol: Tol {
        atol: 1e-8,
        rtol: 1e-7,
    },
};

/// Finite differences in float64 with a larger step, for layers built on
/// `exp` or `erf` (Sigmoid, Softmax, LogSoftmax, Gelu, swish). MLX 0.32's CPU
/// `exp` on a float64 array is only float32-accurate (exp(-0.5) comes back as
/// 0.6065306663513184, the f32 value), so every loss carries noise of about
/// 1e-7 absolute. A 1e-6 step turns that into errors of 1e-2; this step
/// balances it (about 1e-7 / step) against truncation (about step^2 / 6).
const F64_EXP: Fd = Fd {
    dtype: Dtype::Float64,
    step: 3e-3,
    tol: Tol {
        atol: 2e-5,
        rtol: 2e-5,
    },
};

/// Finite differences in float32, for `Conv2d`: MLX 0.32's CPU convolution has
/// no float64 kernel ("[Convolution::eval] got unsupported data type"). A
/// convolution is affine in each input element and in each weight element, so
/// the central difference has no truncation error and only float32 rounding
/// (about 1e-7 * |L| / step) remains.
const F32_AFFINE: Fd = Fd {
    dtype: Dtype::Float32,
    step: 1e-2,
    tol: Tol {
        atol: 5e-5,
        rtol: 5e-5,
    },
};

/// Fixture cases that fail because of a known bug: each must still fail with
/// an error containing the given text (the table says so); once it passes,
/// the test fails until the entry is removed.
const KNOWN_BUGS: &[(&str, &str)] = &[];

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
/// Narrower floats are read as f32 (exact) and widened in Rust, so this also
/// works on a GPU, which has no f64.
fn values(a: &Array) -> Result<Vec<f64>, String> {
    if a.dtype() == Dtype::Float64 {
        let a = a.contiguous().map_err(|e| e.to_string())?;
        return a.to_vec_exact::<f64>().map_err(|e| e.to_string());
    }
    let a = a
        .as_dtype(Dtype::Float32)
        .and_then(|a| a.contiguous())
        .map_err(|e| e.to_string())?;
    let v = a.to_vec_exact::<f32>().map_err(|e| e.to_string())?;
    Ok(v.into_iter().map(f64::from).collect())
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

/// Compares `got` with `want` elementwise within `tol`; the error names the
/// worst element (the one furthest beyond its allowance).
fn compare(what: &str, got: &Array, want: &Array, tol: Tol) -> Result<Worst, String> {
    if got.shape() != want.shape() {
        return Err(format!(
            "{what}: shape {:?}, expected {:?}",
            got.shape(),
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

/// The layer call as the model writes it (`Linear(4,bias=false)`), without
/// the layer's name and without spaces.
fn layer_call<M: Model>() -> String {
    let call = &mithril::graph_of::<M>().nodes[0].call;
    let call: String = call.chars().filter(|c| !c.is_whitespace()).collect();
    call.strip_prefix("layer:").unwrap_or(&call).to_string()
}

/// The device the fixture comparisons run on: the CPU, or the GPU with
/// `MITHRIL_TEST_DEVICE=gpu` (the GPU run of docs/gpu.md). Finite differences
/// always run on the CPU, in f64 where MLX has it (GPUs have no f64).
fn test_device() -> Device {
    match std::env::var("MITHRIL_TEST_DEVICE").as_deref() {
        Ok("gpu") => Device::Gpu,
        _ => Device::Cpu,
    }
}

/// Fixture and mode tolerances on the GPU. MLX's CUDA backend runs f32
/// matrix products and convolutions on TF32 tensor cores (10-bit mantissa:
/// each input rounds by up to 2^-11, about 4.9e-4, relative), with no switch
/// to turn that off in MLX 0.32.2; measured on an H200, Linear outputs differ
/// from the CPU fixtures by up to 3.7e-4 and Conv2d weight gradients (sums
/// over a whole batch and image) by up to 5.0e-3 on values near 0.4.
/// Elementwise layers, pools and reshapes still match to 1e-7.
const GPU_TOL: Tol = Tol {
    atol: 5e-3,
    rtol: 1e-2,
};

fn fixture_tol() -> Tol {
    if test_device() == Device::Gpu { GPU_TOL } else { FIXTURE_TOL }
}

fn modes_tol() -> Tol {
    if test_device() == Device::Gpu { GPU_TOL } else { MODES_TOL }
}

/// `evaluate_with_gradients` of the output `y` with `cotangent`, on [`test_device`],
/// as named arrays with the fixtures' keys: `output`, `grad.input.<name>`,
/// `grad.weight.<name>`.
fn evaluate<M: Model>(
    graph_mode: bool,
    weights: &[Array],
    inputs: &[Array],
    cotangent: &Array,
) -> Result<Vec<(String, Array)>, String> {
    evaluate_on::<M>(test_device(), graph_mode, weights, inputs, cotangent)
}

/// [`evaluate`] on a chosen device.
fn evaluate_on<M: Model>(
    device: Device,
    graph_mode: bool,
    weights: &[Array],
    inputs: &[Array],
    cotangent: &Array,
) -> Result<Vec<(String, Array)>, String> {
    let backend = MlxBackend::builder()
        .device(device)
        .graph_mode(graph_mode)
        .build()
        .map_err(|e| e.to_string())?;
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

// ---------------------------------------------------------------------------
// The checks

/// The largest errors of one case, for the table.
#[derive(Clone, Copy, Debug, Default)]
struct Errors {
    /// Mithril vs the fixture, both modes (f32); `None` without a fixture.
    fixture: Option<Worst>,
    /// Compiled vs eager (f32); `None` without a fixture.
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
    // Every expectation of the fixture has its array.
    let expected = fixture
        .keys()
        .filter(|k| *k == "output" || k.starts_with("grad."))
        .count();
    if compiled.len() != expected {
        return Err(format!(
            "{case}: Mithril gives {} arrays, the fixture has {expected}",
            compiled.len()
        ));
    }
    let (mut vs_fixture, mut modes) = (Worst::default(), Worst::default());
    for ((key, c), (_, e)) in compiled.iter().zip(&eager) {
        let want = get(key)?;
        let vs_mlx = |mode: &str, got: &Array| {
            compare(&format!("{case} {mode} {key}"), got, &want, fixture_tol())
        };
        vs_fixture = vs_fixture
            .max(vs_mlx("compiled", c)?)
            .max(vs_mlx("eager", e)?);
        let what = format!("{case} compiled vs eager {key}");
        modes = modes.max(compare(&what, c, e, modes_tol())?);
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
    /// The dtype of the model's inputs, parameters and cotangent.
    dtype: Dtype,
    /// The step h of (L(x + h) - L(x - h)) / 2h.
    step: f64,
    /// VJP vs finite differences.
    tol: Tol,
}

/// Compares the VJP of both modes with central finite differences of
/// L = sum(y * cotangent) (forward passes in `fd.dtype`, L summed in f64),
/// one element of one input or parameter at a time.
fn fd_check<M: Model>(
    case: &str,
    weights: &[Array],
    inputs: &[Array],
    cotangent: &Array,
    fd: Fd,
) -> Result<Worst, String> {
    // Finite differences run on the CPU (f64 where MLX has it; GPUs have none).
    mithril::mlx_rs::Device::set_default(&mithril::mlx_rs::Device::cpu());
    let cast = |a: &Array| a.as_dtype(fd.dtype).map_err(|e| e.to_string());
    // What `fd.dtype` stores for x.
    let round = |x: f64| match fd.dtype {
        Dtype::Float32 => x as f32 as f64,
        _ => x,
    };
    let weights = weights.iter().map(cast).collect::<Result<Vec<_>, _>>()?;
    let inputs = inputs.iter().map(cast).collect::<Result<Vec<_>, _>>()?;
    let cotangent = cast(cotangent)?;
    let cot = values(&cotangent)?;

    let backend = MlxBackend::builder()
        .device(Device::Cpu)
        .graph_mode(false)
        .build()
        .map_err(|e| e.to_string())?;
    let mut model = mithril::compile::<M>(&backend);
    let mut loss = |primals: &[Array]| -> Result<f64, String> {
        let (weights, inputs) = primals.split_at(weights.len());
        let params = M::Params::from_arrays(&mut weights.iter().cloned()).ok_or("weights")?;
        let inputs = M::Inputs::from_arrays(inputs.to_vec()).ok_or("inputs")?;
        let out = model
            .evaluate(&params, &inputs)
            .map_err(|e| e.to_string())?;
        let y = out.arrays()[0];
        if y.dtype() != fd.dtype {
            return Err(format!("{:?} in, {:?} out", fd.dtype, y.dtype()));
        }
        Ok(values(y)?.iter().zip(&cot).map(|(y, c)| y * c).sum())
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
        differences.push((name, Array::from_slice_f64(&grad, original.shape())));
    }

    let mut worst = Worst::default();
    for graph_mode in [true, false] {
        let mode = if graph_mode { "compiled" } else { "eager" };
        let vjp = evaluate_on::<M>(Device::Cpu, graph_mode, &weights, &inputs, &cotangent)
            .map_err(|e| format!("{case} {mode} ({:?}): {e}", fd.dtype))?;
        for (name, want) in &differences {
            let (_, got) = vjp
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| format!("{case}: no {name}"))?;
            let what = format!("{case} {mode} {name} vs FD ({:?})", fd.dtype);
            if got.dtype() != fd.dtype {
                return Err(format!("{what}: the VJP is {:?}", got.dtype()));
            }
            worst = worst.max(compare(&what, got, want, fd.tol)?);
        }
    }
    Ok(worst)
}

// ---------------------------------------------------------------------------
// The models: one layer named `layer`, output `y`.

/// A one-layer model: `x -> layer: <call> => y`, or with inputs `a` and `b`
/// the layer at the head of the flow, `layer: <call>(a, b) => y`.
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
    ($model:ident, a: [$($a:tt)*], b: [$($b:tt)*], $name:ident $(($($args:tt)*))?) => {
        mithril::model! {
            $model {
                input a: [$($a)*];
                input b: [$($b)*];
                layer: $name $(($($args)*))? (a, b) => y;
                output y;
            }
        }
    };
}

// The fixture cases: the layer calls of cases.json, the fixtures' input shapes.
layer_model!(LinearCase, x: [B, 5], Linear(4));
layer_model!(LinearNobiasCase, x: [B, 5], Linear(4, bias = false));
layer_model!(Linear3dCase, x: [B, 3, 5], Linear(6));
layer_model!(Conv2dSameCase, x: [B, 6, 6, 3], Conv2d(filters = 4, kernel = 3, padding = same));
layer_model!(Conv2dValidStride2Case, x: [B, 7, 7, 3],
    Conv2d(filters = 4, kernel = 3, stride = 2, padding = valid));
layer_model!(Conv2dPad1Dilation2Case, x: [B, 8, 8, 2],
    Conv2d(filters = 2, kernel = 3, padding = 1, dilation = 2));
layer_model!(Conv2dNobiasKernelPairCase, x: [B, 5, 6, 2],
    Conv2d(filters = 3, kernel = (2, 3), bias = false));
layer_model!(MaxPool2dCase, x: [B, 6, 6, 3], MaxPool2d(2));
layer_model!(MaxPool2dK3S2Case, x: [B, 7, 7, 2], MaxPool2d(kernel = 3, stride = 2));
layer_model!(AvgPool2dCase, x: [B, 6, 6, 3], AvgPool2d(2));
layer_model!(AvgPool2dK3S1Case, x: [B, 5, 5, 2], AvgPool2d(kernel = 3, stride = 1));
layer_model!(FlattenCase, x: [B, 3, 4, 5], Flatten);
layer_model!(ReshapeCase, x: [B, 60], Reshape([B, 6, 10]));
layer_model!(ReluCase, x: [3, 7], Relu);
layer_model!(LeakyReluCase, x: [3, 7], LeakyRelu(0.1));
layer_model!(GeluCase, x: [3, 7], Gelu);
layer_model!(SigmoidCase, x: [3, 7], Sigmoid);
layer_model!(TanhCase, x: [3, 7], Tanh);
layer_model!(SoftmaxCase, x: [3, 7], Softmax);
layer_model!(SoftmaxAxis0Case, x: [3, 7], Softmax(axis = 0));
layer_model!(LogSoftmaxCase, x: [3, 7], LogSoftmax);
layer_model!(AddCase, a: [3, 4], b: [3, 4], Add);
layer_model!(SubtractCase, a: [3, 4], b: [3, 4], Subtract);
layer_model!(MultiplyCase, a: [3, 4], b: [3, 4], Multiply);
layer_model!(MatMulCase, a: [2, 3, 4], b: [2, 4, 5], MatMul);
layer_model!(ConcatCase, a: [2, 3], b: [2, 5], Concat(axis = -1));
layer_model!(ConcatAxis1Case, a: [2, 3, 4], b: [2, 2, 4], Concat(axis = 1));
layer_model!(ReferenceCase, x: [N, 1], Linear(1));

// The `reshape` fixture without the symbol in the target (see `KNOWN_BUGS`).
layer_model!(ReshapeLiteralCase, x: [2, 60], Reshape([2, 6, 10]));

// Variants without fixtures, checked against finite differences only.
layer_model!(Conv2dPairsCase, x: [1, 6, 7, 2],
    Conv2d(filters = 2, kernel = (3, 2), stride = (2, 1), padding = (1, 2), dilation = (1, 2)));
layer_model!(Conv2dSameDilatedCase, x: [1, 5, 5, 2],
    Conv2d(filters = 2, kernel = 3, padding = same, dilation = 2));
layer_model!(MaxPool2dPaddedCase, x: [1, 5, 5, 2], MaxPool2d(kernel = 3, stride = 2, padding = 1));
layer_model!(AvgPool2dPairsCase, x: [1, 4, 6, 2],
    AvgPool2d(kernel = (2, 3), stride = (1, 2), padding = (1, 1)));
layer_model!(FlattenMiddleCase, x: [2, 3, 4, 2], Flatten(start = 1, end = 2));
layer_model!(ReshapeWildcardCase, x: [2, 12], Reshape([2, -1, 3]));
layer_model!(LogSoftmaxAxis0Case, x: [4, 3], LogSoftmax(axis = 0));
layer_model!(AddBroadcastCase, a: [3, 4], b: [4], Add);
layer_model!(SubtractBroadcastCase, a: [3, 1], b: [3, 4], Subtract);
layer_model!(MultiplyBroadcastCase, a: [2, 1, 4], b: [3, 1], Multiply);
layer_model!(MatMulBroadcastCase, a: [3, 4], b: [2, 4, 5], MatMul);
layer_model!(SwishCase, x: [3, 5], Lambda(swish));
layer_model!(SquareSumsCase, x: [3, 5], Lambda(square_sums, shape = [3, 1]));

mithril::model! {
    Concat3Case {
        input a: [1, 3];
        input b: [2, 3];
        input c: [3, 3];
        layer: Concat(axis = 0)(a, b, c) => y;
        output y;
    }
}

/// swish(x) = x * sigmoid(x): a custom op written with mlx-rs ops.
fn swish(x: &Array) -> Result<Array, Exception> {
    x.multiply(ops::sigmoid(x)?)
}

/// The sum of squares over the last axis, kept: a custom op with a declared shape.
fn square_sums(x: &Array) -> Result<Array, Exception> {
    x.square()?.sum_axis(-1, true)
}

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
    "linear" => LinearCase: F64,
    "linear_nobias" => LinearNobiasCase: F64,
    "linear_3d" => Linear3dCase: F64,
    "conv2d_same" => Conv2dSameCase: F32_AFFINE,
    "conv2d_valid_stride2" => Conv2dValidStride2Case: F32_AFFINE,
    "conv2d_pad1_dilation2" => Conv2dPad1Dilation2Case: F32_AFFINE,
    "conv2d_nobias_kernel_pair" => Conv2dNobiasKernelPairCase: F32_AFFINE,
    "maxpool2d" => MaxPool2dCase: F64,
    "maxpool2d_k3_s2" => MaxPool2dK3S2Case: F64,
    "avgpool2d" => AvgPool2dCase: F64,
    "avgpool2d_k3_s1" => AvgPool2dK3S1Case: F64,
    "flatten" => FlattenCase: F64,
    "reshape" => ReshapeCase: F64,
    "relu" => ReluCase: F64,
    "leaky_relu" => LeakyReluCase: F64,
    "gelu" => GeluCase: F64_EXP,
    "sigmoid" => SigmoidCase: F64_EXP,
    "tanh" => TanhCase: F64,
    "softmax" => SoftmaxCase: F64_EXP,
    "softmax_axis0" => SoftmaxAxis0Case: F64_EXP,
    "log_softmax" => LogSoftmaxCase: F64_EXP,
    "add" => AddCase: F64,
    "subtract" => SubtractCase: F64,
    "multiply" => MultiplyCase: F64,
    "matmul" => MatMulCase: F64,
    "concat" => ConcatCase: F64,
    "concat_axis1" => ConcatAxis1Case: F64,
    "mithril_linear_reference" => ReferenceCase: F64,
};

const FD_ONLY_CASES: &[Case] = cases! { check_fd_only:
    "conv2d_pairs_stride_pad_dilation" => Conv2dPairsCase: F32_AFFINE,
    "conv2d_same_dilation2" => Conv2dSameDilatedCase: F32_AFFINE,
    "maxpool2d_padded" => MaxPool2dPaddedCase: F64,
    "avgpool2d_padded_pairs" => AvgPool2dPairsCase: F64,
    "flatten_middle_axes" => FlattenMiddleCase: F64,
    "reshape_wildcard" => ReshapeWildcardCase: F64,
    "log_softmax_axis0" => LogSoftmaxAxis0Case: F64_EXP,
    "add_broadcast" => AddBroadcastCase: F64,
    "subtract_broadcast" => SubtractBroadcastCase: F64,
    "multiply_broadcast" => MultiplyBroadcastCase: F64,
    "matmul_broadcast" => MatMulBroadcastCase: F64,
    "concat_three" => Concat3Case: F64,
    "lambda_swish" => SwishCase: F64_EXP,
    "lambda_declared_shape" => SquareSumsCase: F64,
};

/// Runs every case (all of them, whatever fails), prints the table and fails
/// with every failure.
fn run_table(title: &str, cases: &[Case]) {
    let cell = |w: Option<Worst>| w.map_or("-".to_string(), |w| w.to_string());
    println!("\n{title}");
    println!(
        "{:32} {:72} {:>15} {:>15} {:>15}",
        "case", "layer", "vs MLX", "compiled/eager", "VJP vs FD"
    );
    let mut failures = Vec::new();
    for case in cases {
        let precision = match case.fd.dtype {
            Dtype::Float64 => "f64",
            _ => "f32",
        };
        let row = format!("{:32} {:72}", case.name, (case.call)());
        let known_bug = KNOWN_BUGS.iter().find(|(name, _)| *name == case.name);
        match ((case.check)(case.name, case.fd), known_bug) {
            (Ok(e), None) => println!(
                "{row} {:>15} {:>15} {:>15} {precision}",
                cell(e.fixture),
                cell(e.modes),
                e.fd.to_string(),
            ),
            (Err(e), Some((_, text))) if e.contains(text) => {
                println!("{row} known bug: {e}");
            }
            (Ok(_), Some(_)) => {
                println!("{row} passes");
                failures.push(format!(
                    "{}: passes now; remove it from KNOWN_BUGS",
                    case.name
                ));
            }
            (Err(e), _) => {
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

/// The fixture cases are exactly those of `cases.json`, with the same layer calls.
#[test]
fn fixture_cases_are_those_of_the_index() {
    let index = std::fs::read_to_string(format!("{FIXTURES}/cases.json")).unwrap();
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
    assert_eq!(layers.len(), 28);
    assert_eq!(FIXTURE_CASES.len(), layers.len());
    for case in FIXTURE_CASES {
        let layer = layers
            .get(case.name)
            .unwrap_or_else(|| panic!("case `{}` is not in cases.json", case.name));
        assert_eq!(&(case.call)(), layer, "case `{}`", case.name);
    }
}

#[test]
fn layers_match_python_mlx_and_finite_differences() {
    run_table(
        "Fixture cases: max |diff| (share of tolerance); vs MLX and compiled/eager in f32",
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

/// The `reshape` fixture passes once the batch is literal (see [`KNOWN_BUGS`]).
#[test]
fn reshape_fixture_with_literal_batch() {
    let errors = check_fixture::<ReshapeLiteralCase>("reshape", F64).unwrap();
    println!(
        "reshape, Reshape([2, 6, 10]): vs MLX {}, compiled/eager {}, VJP vs FD {}",
        errors.fixture.unwrap_or_default(),
        errors.modes.unwrap_or_default(),
        errors.fd
    );
}

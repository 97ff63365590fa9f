//! The harness of the numeric layer checks: one-layer models run through
//! `evaluate_with_gradients`, compiled and eager, compared with the Python
//! MLX fixtures of `tests/fixtures/layers/`, with each other, and with
//! finite differences of L = sum(output * cotangent); the tables of the
//! largest errors. Each area module keeps its models and case tables and
//! passes in a [`Suite`] (`super::suites`) and an [`Fd`] per case.
//!
//! Fixture comparisons run on [`test_device`] (the GPU with
//! `MITHRIL_TEST_DEVICE=gpu`, within [`GPU_TOL`]); finite differences always
//! run on the CPU.

use std::collections::HashMap;
use std::fmt;

use mithril::mlx_rs::{Array, Dtype};
use mithril::{Device, MlxBackend, Model, Params, Values};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/layers");

/// What the harness sets for the cases of one fixture index (its fixture
/// cases, and the variants checked with the same settings).
pub struct Suite {
    /// The index of `tests/fixtures/layers/` its fixture cases come from.
    pub index: &'static str,
    /// How many cases that index has.
    pub cases: usize,
    /// Mithril vs the Python MLX fixture, on the CPU.
    pub fixture_tol: Tol,
    /// Compiled vs eager, on the CPU.
    pub modes_tol: Tol,
    /// How its layers treat dtypes.
    pub dtypes: Dtypes,
    /// Fixture cases that fail because of a known bug: each must still fail
    /// with an error containing the given text (the table says so); once it
    /// passes, the test fails until the entry is removed.
    pub known_bugs: &'static [(&'static str, &'static str)],
    /// The widths of the table's `case` and `layer` columns.
    pub columns: (usize, usize),
}

/// How the layers of a [`Suite`] treat dtypes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtypes {
    /// Every layer keeps its inputs' dtype: a finite-difference forward pass
    /// in `fd.dtype` must give `fd.dtype`, the cotangent is cast to it,
    /// comparisons check shapes (and the VJP's dtype against finite
    /// differences, which stay in f64).
    Kept,
    /// Layers may change it (`Cast`): the cotangent takes the output's dtype,
    /// comparisons check dtypes as well as shapes, and finite differences are
    /// cast to `fd.dtype`.
    Followed,
}

// ---------------------------------------------------------------------------
// Comparing arrays

/// An elementwise tolerance: |got - want| <= atol + rtol * |want|.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub atol: f64,
    pub rtol: f64,
}

/// The outcome of comparisons that passed: the largest |got - want| and the
/// largest share of an element's allowance used (1.0 = at the tolerance).
#[derive(Clone, Copy, Debug, Default)]
pub struct Worst {
    pub abs: f64,
    pub used: f64,
}

impl Worst {
    pub fn max(self, other: Worst) -> Worst {
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
/// Narrower floats (and integers) are read as f32 (exact) and widened in
/// Rust, so this also works on a GPU, which has no f64.
pub fn values(a: &Array) -> Result<Vec<f64>, String> {
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

pub fn is_integer(dtype: Dtype) -> bool {
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

/// Compares `got` with `want` elementwise within `tol`; the error names the
/// worst element (the one furthest beyond its allowance).
pub fn compare(what: &str, got: &Array, want: &Array, tol: Tol) -> Result<Worst, String> {
    if got.shape() != want.shape() {
        return Err(format!(
            "{what}: shape {:?}, expected {:?}",
            got.shape(),
            want.shape()
        ));
    }
    within(what, got, want, tol)
}

/// [`compare`], and the dtypes must agree.
pub fn compare_typed(what: &str, got: &Array, want: &Array, tol: Tol) -> Result<Worst, String> {
    if got.shape() != want.shape() || got.dtype() != want.dtype() {
        return Err(format!(
            "{what}: {:?} {:?}, expected {:?} {:?}",
            got.dtype(),
            got.shape(),
            want.dtype(),
            want.shape()
        ));
    }
    within(what, got, want, tol)
}

/// The elementwise part of [`compare`], on arrays of the same shape.
fn within(what: &str, got: &Array, want: &Array, tol: Tol) -> Result<Worst, String> {
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

impl Suite {
    /// The comparison of the suite's [`Dtypes`]: [`compare_typed`] or [`compare`].
    fn compare(&self, what: &str, got: &Array, want: &Array, tol: Tol) -> Result<Worst, String> {
        match self.dtypes {
            Dtypes::Kept => compare(what, got, want, tol),
            Dtypes::Followed => compare_typed(what, got, want, tol),
        }
    }
}

// ---------------------------------------------------------------------------
// Running one-layer models

/// The parameter names of a one-layer model (`weight`, `bias`), in the graph's order.
pub fn weight_names<M: Model>() -> Vec<String> {
    mithril::runtime::graph_of::<M>()
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

/// A model's parameter paths (`layer.weight`) and shapes, in the graph's order.
pub fn weight_shapes<M: Model>() -> Vec<(String, Vec<usize>)> {
    mithril::runtime::graph_of::<M>()
        .weights
        .iter()
        .map(|w| (w.path.clone(), w.shape.clone()))
        .collect()
}

/// The layer call as the model writes it (`Linear(4,bias=false)`), without
/// the layer's name and without spaces.
pub fn layer_call<M: Model>() -> String {
    let call = &mithril::runtime::graph_of::<M>().nodes[0].call;
    let call: String = call.chars().filter(|c| !c.is_whitespace()).collect();
    call.strip_prefix("layer:").unwrap_or(&call).to_string()
}

/// The device the fixture comparisons run on: the CPU, or the GPU with
/// `MITHRIL_TEST_DEVICE=gpu` (the GPU run of docs/gpu.md). Finite differences
/// always run on the CPU, in f64 where MLX has it (GPUs have no f64).
pub fn test_device() -> Device {
    match std::env::var("MITHRIL_TEST_DEVICE").as_deref() {
        Ok("gpu") => Device::Gpu,
        _ => Device::Cpu,
    }
}

/// Mithril (f32) vs a Python MLX fixture (f32): the same MLX version on the
/// CPU, but the fixtures used the wheel's reference BLAS and the workspace
/// OpenBLAS (docs/building.md), which sums matmuls and convolutions in another
/// order, and compiled (fused) kernels round differently from eager ones: up to
/// 1.9e-6 apart on gradients that sum a few dozen O(1) products.
pub const FIXTURE_TOL: Tol = Tol {
    atol: 2e-6,
    rtol: 1e-5,
};

/// Compiled vs eager (f32).
pub const MODES_TOL: Tol = Tol {
    atol: 1e-6,
    rtol: 1e-6,
};

/// Finite differences in float64 with a small step, for ops MLX computes to
/// f64 accuracy on the CPU (affine maps, arithmetic, `log`, `sqrt`, pools,
/// lookups, reshapes, piecewise-linear ops, sums, products, maxima,
/// variances): truncation (step^2) and rounding (1e-16 / step) are both far
/// below the tolerance. Piecewise-linear ops are exact between their kinks,
/// which the inputs stay away from.
pub const F64: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1e-6,
    tol: Tol {
        atol: 1e-8,
        rtol: 1e-7,
    },
    quantise: false,
    stencil: Stencil::ThreePoint,
};

/// Finite differences in float64 with a larger step, for layers built on
/// `exp` or `erf` (Sigmoid, Softmax, LogSoftmax, Gelu, swish). MLX 0.32's CPU
/// `exp` on a float64 array is only float32-accurate (exp(-0.5) comes back as
/// 0.6065306663513184, the f32 value), so every loss carries noise of about
/// 1e-7 absolute. A 1e-6 step turns that into errors of 1e-2; this step
/// balances it (about 1e-7 / step) against truncation (about step^2 / 6).
pub const F64_EXP: Fd = Fd {
    dtype: Dtype::Float64,
    step: 3e-3,
    tol: Tol {
        atol: 2e-5,
        rtol: 2e-5,
    },
    quantise: false,
    stencil: Stencil::ThreePoint,
};

/// Finite differences in float64 for layers whose `exp`, `sin` or `cos` MLX
/// computes to float32 accuracy only (softmax in attention, the LSTM and GRU
/// gates, `Exp`, `Sin`, `Cos`, `LogSumExp`) and whose curvature defeats
/// [`F64_EXP`]: the five-point stencil (truncation about step^4 / 30 times
/// the fifth derivative) allows a step large enough to make the noise about
/// 1e-6 while truncation stays below it; with the three-point stencil no step
/// gets both under 2e-5 for these layers.
pub const F64_EXP_FIVE_POINT: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1e-2,
    tol: Tol {
        atol: 2e-5,
        rtol: 2e-5,
    },
    quantise: false,
    stencil: Stencil::FivePoint,
};

/// Finite differences in float32 for convolutions: MLX 0.32's CPU
/// convolution has no float64 kernel ("[Convolution::eval] got unsupported
/// data type"). A convolution is affine in each input and weight element, so
/// the central difference has no truncation error and only float32 rounding
/// (about 1e-7 * |L| / step) remains.
pub const F32_AFFINE: Fd = Fd {
    dtype: Dtype::Float32,
    step: 1e-2,
    tol: Tol {
        atol: 5e-5,
        rtol: 5e-5,
    },
    quantise: false,
    stencil: Stencil::ThreePoint,
};

/// Fixture and mode tolerances on the GPU. MLX's CUDA backend runs f32
/// matrix products and convolutions on TF32 tensor cores (10-bit mantissa:
/// each input rounds by up to 2^-11, about 4.9e-4, relative), with no switch
/// to turn that off in MLX 0.32.2; measured on an H200, Linear outputs differ
/// from the CPU fixtures by up to 3.7e-4 and Conv2d weight gradients (sums
/// over a whole batch and image) by up to 5.0e-3 on values near 0.4.
/// Elementwise layers, pools and reshapes still match to 1e-7.
pub const GPU_TOL: Tol = Tol {
    atol: 5e-3,
    rtol: 1e-2,
};

/// `tol` on the CPU, [`GPU_TOL`] on the GPU (see [`test_device`]).
fn on_test_device(tol: Tol) -> Tol {
    if test_device() == Device::Gpu {
        GPU_TOL
    } else {
        tol
    }
}

/// A backend on `device`, compiled (`graph_mode`) or eager.
pub fn backend(device: Device, graph_mode: bool) -> Result<MlxBackend, String> {
    MlxBackend::builder()
        .device(device)
        .graph_mode(graph_mode)
        .build()
        .map_err(|e| e.to_string())
}

/// `evaluate_with_gradients` of the output `y` with `cotangent`, on [`test_device`],
/// as named arrays with the fixtures' keys: `output`, `grad.input.<name>`,
/// `grad.weight.<name>`.
pub fn evaluate<M: Model>(
    graph_mode: bool,
    weights: &[Array],
    inputs: &[Array],
    cotangent: &Array,
) -> Result<Vec<(String, Array)>, String> {
    evaluate_on::<M>(test_device(), graph_mode, weights, inputs, cotangent)
}

/// [`evaluate`] on a chosen device.
pub fn evaluate_on<M: Model>(
    device: Device,
    graph_mode: bool,
    weights: &[Array],
    inputs: &[Array],
    cotangent: &Array,
) -> Result<Vec<(String, Array)>, String> {
    let backend = backend(device, graph_mode)?;
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

/// The forward output alone, on the CPU.
pub fn forward<M: Model>(
    graph_mode: bool,
    weights: &[Array],
    inputs: &[Array],
) -> Result<Array, String> {
    let backend = backend(Device::Cpu, graph_mode)?;
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
pub struct Errors {
    /// Mithril vs the fixture, both modes; `None` without a fixture.
    pub fixture: Option<Worst>,
    /// Compiled vs eager; `None` without a fixture.
    pub modes: Option<Worst>,
    /// VJP vs finite differences, both modes; `None` for a layer whose
    /// gradient is not its derivative (`StopGradient`).
    pub fd: Option<Worst>,
}

/// Checks a fixture case in both modes against the fixture and each other,
/// then its VJP against finite differences on the fixture's data.
pub fn check_fixture<M: Model>(suite: &Suite, case: &str, fd: Fd) -> Result<Errors, String> {
    let (errors, data) = compare_with_fixture::<M>(suite, case)?;
    let (weights, inputs, cotangent) = data;
    Ok(Errors {
        fd: Some(fd_check::<M>(
            suite, case, &weights, &inputs, &cotangent, fd,
        )?),
        ..errors
    })
}

/// [`check_fixture`] without finite differences, for a layer whose gradient
/// is by definition not the derivative of its output (`StopGradient`: the
/// fixture's gradient, MLX's, is zero).
pub fn check_fixture_only<M: Model>(suite: &Suite, case: &str, _: Fd) -> Result<Errors, String> {
    Ok(compare_with_fixture::<M>(suite, case)?.0)
}

/// A fixture's weights, inputs and cotangent.
type FixtureData = (Vec<Array>, Vec<Array>, Array);

/// The comparisons of [`check_fixture`] against the fixture and between the
/// modes, and the fixture's data.
fn compare_with_fixture<M: Model>(
    suite: &Suite,
    case: &str,
) -> Result<(Errors, FixtureData), String> {
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
    // Integer inputs (`Embedding`'s indices) have no gradient in the
    // fixture; Mithril's is zero.
    let mut comparable = Vec::new();
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
        comparable.push((key, c, e));
    }
    // Every expectation of the fixture has its array.
    let expected = fixture
        .keys()
        .filter(|k| *k == "output" || k.starts_with("grad."))
        .count();
    if comparable.len() != expected {
        return Err(format!(
            "{case}: Mithril gives {} comparable arrays, the fixture has {expected}",
            comparable.len()
        ));
    }
    let (fixture_tol, modes_tol) = (
        on_test_device(suite.fixture_tol),
        on_test_device(suite.modes_tol),
    );
    let (mut vs_fixture, mut modes) = (Worst::default(), Worst::default());
    for (key, c, e) in comparable {
        let want = get(key)?;
        for (mode, got) in [("compiled", c), ("eager", e)] {
            let what = format!("{case} {mode} {key}");
            vs_fixture = vs_fixture.max(suite.compare(&what, got, &want, fixture_tol)?);
        }
        let what = format!("{case} compiled vs eager {key}");
        modes = modes.max(suite.compare(&what, c, e, modes_tol)?);
    }
    Ok((
        Errors {
            fixture: Some(vs_fixture),
            modes: Some(modes),
            fd: None,
        },
        (weights, inputs, cotangent),
    ))
}

/// Checks a model without a fixture (literal input shapes) against finite
/// differences, with pseudo-random inputs, parameters and cotangent.
pub fn check_fd_only<M: Model>(suite: &Suite, case: &str, fd: Fd) -> Result<Errors, String> {
    let graph = mithril::runtime::graph_of::<M>();
    let known = |s: &mithril::runtime::Shape| {
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
        fd: Some(fd_check::<M>(
            suite, case, &weights, &inputs, &cotangent, fd,
        )?),
        ..Errors::default()
    })
}

/// Values in [-1, 1) from a 64-bit LCG, as an f64 array.
pub fn pseudo_random(seed: u64, shape: &[usize]) -> Array {
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
pub struct Fd {
    /// The dtype of the model's float inputs and parameters.
    pub dtype: Dtype,
    /// The step h of the stencil.
    pub step: f64,
    /// VJP vs finite differences.
    pub tol: Tol,
    /// Round float inputs and parameters to multiples of 1/64, clamped to
    /// [-4, 4], before differencing.
    pub quantise: bool,
    /// The formula, with the step above.
    pub stencil: Stencil,
}

/// The finite-difference formula.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stencil {
    /// (L(x + h) - L(x - h)) / 2h, with x + h and x - h as `fd.dtype` stores
    /// them: truncation error O(h^2).
    ThreePoint,
    /// (8 (L(x + h) - L(x - h)) - (L(x + 2h) - L(x - 2h))) / 12h, in float64
    /// only: truncation error O(h^4), so a step large enough to drown MLX's
    /// float32-accurate `exp` is possible. (In float64 the points' rounding,
    /// about 1e-16, is negligible.)
    FivePoint,
}

/// Compares the VJP of both modes with central finite differences of
/// L = sum(y * cotangent) (forward passes with float primals in `fd.dtype`,
/// the cotangent in the output's dtype, L summed in f64), one element of one
/// float input or parameter at a time. Integer inputs stay as they are.
pub fn fd_check<M: Model>(
    suite: &Suite,
    case: &str,
    weights: &[Array],
    inputs: &[Array],
    cotangent: &Array,
    fd: Fd,
) -> Result<Worst, String> {
    // Finite differences run on the CPU (f64 where MLX has it; GPUs have none).
    mithril::mlx_rs::Device::set_default(&mithril::mlx_rs::Device::cpu());
    if fd.stencil == Stencil::FivePoint && fd.dtype != Dtype::Float64 {
        return Err(format!(
            "{case}: the five-point stencil here assumes float64"
        ));
    }
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
    let cotangent = match suite.dtypes {
        Dtypes::Kept => cast(cotangent)?,
        Dtypes::Followed => {
            // The cotangent takes the output's dtype (a `Cast` changes it).
            let out_dtype = forward::<M>(false, &weights, &inputs)
                .map_err(|e| format!("{case} forward ({:?}): {e}", fd.dtype))?
                .dtype();
            cotangent.as_dtype(out_dtype).map_err(|e| e.to_string())?
        }
    };
    let cot = values(&cotangent)?;

    let backend = backend(Device::Cpu, false)?;
    let mut model = mithril::compile::<M>(&backend);
    let mut loss = |primals: &[Array]| -> Result<f64, String> {
        let (weights, inputs) = primals.split_at(weights.len());
        let params = M::Params::from_arrays(&mut weights.iter().cloned()).ok_or("weights")?;
        let inputs = M::Inputs::from_arrays(inputs.to_vec()).ok_or("inputs")?;
        let out = model
            .evaluate(&params, &inputs)
            .map_err(|e| e.to_string())?;
        let y = out.arrays()[0];
        if suite.dtypes == Dtypes::Kept && y.dtype() != fd.dtype {
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
            *g = match fd.stencil {
                Stencil::ThreePoint => {
                    let (hi, lo) = (round(base[j] + fd.step), round(base[j] - fd.step));
                    (loss_at(hi)? - loss_at(lo)?) / (hi - lo)
                }
                Stencil::FivePoint => {
                    let (h, x) = (fd.step, base[j]);
                    let near = loss_at(x + h)? - loss_at(x - h)?;
                    let far = loss_at(x + 2.0 * h)? - loss_at(x - 2.0 * h)?;
                    (8.0 * near - far) / (12.0 * h)
                }
            };
        }
        primals[k] = original.clone();
        let fd_grad = Array::from_slice_f64(&grad, original.shape());
        let fd_grad = match suite.dtypes {
            Dtypes::Kept => fd_grad,
            Dtypes::Followed => fd_grad.as_dtype(fd.dtype).map_err(|e| e.to_string())?,
        };
        differences.push((name, fd_grad));
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
            if suite.dtypes == Dtypes::Kept && got.dtype() != fd.dtype {
                return Err(format!("{what}: the VJP is {:?}", got.dtype()));
            }
            worst = worst.max(suite.compare(&what, got, want, fd.tol)?);
        }
    }
    Ok(worst)
}

// ---------------------------------------------------------------------------
// The models: one layer named `layer`, output `y`.

/// A one-layer model: `x -> layer: <call> => y`, or with inputs `a` and `b`
/// (or `q`, `k` and `v`) the layer at the head of the flow,
/// `layer: <call>(a, b) => y`.
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
    ($model:ident, q: [$($q:tt)*], k: [$($k:tt)*], v: [$($v:tt)*], $name:ident $(($($args:tt)*))?) => {
        mithril::model! {
            $model {
                input q: [$($q)*];
                input k: [$($k)*];
                input v: [$($v)*];
                layer: $name $(($($args)*))? (q, k, v) => y;
                output y;
            }
        }
    };
}
pub(crate) use layer_model;

// ---------------------------------------------------------------------------
// The tables

/// A row of a table.
pub struct Case {
    pub name: &'static str,
    /// The layer call of its model.
    pub call: fn() -> String,
    /// How its finite-difference check runs.
    pub fd: Fd,
    pub check: fn(&Suite, &str, Fd) -> Result<Errors, String>,
}

/// The rows of a table: `cases! { check_fixture: "name" => Model: FD, ... }`.
macro_rules! cases {
    ($check:ident: $($name:literal => $model:ident: $fd:ident),* $(,)?) => {
        &[$($crate::harness::Case {
            name: $name,
            call: $crate::harness::layer_call::<$model>,
            fd: $fd,
            check: $check::<$model>,
        }),*]
    };
}
pub(crate) use cases;

/// A table to print and check: its title, the suite it runs under, its rows.
pub type Table<'a> = (&'a str, &'a Suite, &'a [Case]);

/// Runs every case of every table (all of them, whatever fails), prints the
/// tables and fails with every failure.
pub fn run_tables(tables: &[Table]) {
    let failures: Vec<String> = tables
        .iter()
        .flat_map(|&(title, suite, cases)| run_table(suite, title, cases))
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs every case of one table, prints it and returns its failures.
fn run_table(suite: &Suite, title: &str, cases: &[Case]) -> Vec<String> {
    let (name_width, call_width) = suite.columns;
    let cell = |w: Option<Worst>| w.map_or("-".to_string(), |w| w.to_string());
    let types = match suite.dtypes {
        Dtypes::Kept => "f32",
        Dtypes::Followed => "the fixture's types",
    };
    println!(
        "\n{title} (the suite of {}): max |diff| (share of tolerance); vs MLX and compiled/eager in {types}",
        suite.index
    );
    println!(
        "{:name_width$} {:call_width$} {:>15} {:>15} {:>15}",
        "case", "layer", "vs MLX", "compiled/eager", "VJP vs FD"
    );
    let mut failures = Vec::new();
    for case in cases {
        let precision = match case.fd.dtype {
            Dtype::Float64 => "f64",
            _ => "f32",
        };
        let row = format!("{:name_width$} {:call_width$}", case.name, (case.call)());
        let known_bug = suite.known_bugs.iter().find(|(name, _)| *name == case.name);
        match ((case.check)(suite, case.name, case.fd), known_bug) {
            (Ok(e), None) => println!(
                "{row} {:>15} {:>15} {:>15} {precision}",
                cell(e.fixture),
                cell(e.modes),
                cell(e.fd),
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
    failures
}

/// Asserts that `cases` (gathered from every area) are exactly the cases of
/// the suite's index `tests/fixtures/layers/<index>`, as many as it says,
/// with the same layer calls.
pub fn check_index<'a>(suite: &Suite, cases: impl IntoIterator<Item = &'a Case>) {
    let (index, count) = (suite.index, suite.cases);
    let cases: Vec<&Case> = cases.into_iter().collect();
    let text = std::fs::read_to_string(format!("{FIXTURES}/{index}")).unwrap();
    // Enough of a JSON reader for the index's `"case": "..."` and `"layer": "..."`.
    let strings = |key: &str| -> Vec<String> {
        let pattern = format!("\"{key}\": \"");
        text.match_indices(&pattern)
            .map(|(i, _)| {
                let rest = &text[i + pattern.len()..];
                rest[..rest.find('"').unwrap()].to_string()
            })
            .collect()
    };
    let layers: HashMap<String, String> = strings("case")
        .into_iter()
        .zip(strings("layer"))
        .map(|(c, l)| (c, l.chars().filter(|c| !c.is_whitespace()).collect()))
        .collect();
    assert_eq!(layers.len(), count);
    assert_eq!(cases.len(), layers.len());
    for case in cases {
        let layer = layers
            .get(case.name)
            .unwrap_or_else(|| panic!("case `{}` is not in {index}", case.name));
        assert_eq!(&(case.call)(), layer, "case `{}`", case.name);
    }
}

//! Numeric checks of the sequence layers: `ScaledDotProductAttention`,
//! `MultiHeadAttention`, `Rope`, `Lstm` and `Gru`.
//!
//! 1. Against Python MLX: each case of `tests/fixtures/layers/cases_sequence.json`
//!    (made with MLX 0.32.2 by `scripts/fixtures/make_sequence_fixtures.py`
//!    from the mlx.nn modules with their weights swapped in) runs as a
//!    one-layer model through `evaluate_with_gradients` with the fixture's
//!    parameters, inputs and cotangent, compiled and eager. Output, input
//!    gradients and parameter gradients must match the fixture within
//!    [`FIXTURE_TOL`], and the two modes each other within [`MODES_TOL`].
//! 2. Against finite differences (five-point stencil) of
//!    L = sum(output * cotangent), one
//!    element of every input and parameter at a time, on the fixture data and
//!    on variants the fixtures lack (symbolic feature sizes, longer sequences,
//!    three-input causal attention with T != S). All in float64, which MLX's
//!    CPU kernels support for these ops; see [`F64_EXP`] and [`F64_TRIG`] for
//!    the steps and tolerances and why they are not tighter.
//!
//! The harness (comparison, evaluation in both modes, finite differences) is
//! the one of `tests/layers_numeric.rs`.
//! `cargo test --test layers_numeric_b -- --nocapture` prints the table of the
//! largest errors (and the share of the tolerance they use).

use std::collections::HashMap;
use std::fmt;

use mithril::mlx_rs::{Array, Dtype};
use mithril::{Device, MlxBackend, Model, Params, Values};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/layers");

/// Mithril (f32) vs the Python MLX fixture (f32): the same MLX version on the
/// same device and the same op sequence as mlx.nn, so only reassociation-level
/// differences are expected.
const FIXTURE_TOL: Tol = Tol {
    atol: 2e-6,
    rtol: 1e-5,
};

/// Compiled vs eager (f32).
const MODES_TOL: Tol = Tol {
    atol: 1e-6,
    rtol: 1e-6,
};

/// Finite differences in float64 for layers built on `exp` (softmax in the
/// attention layers, sigmoid in the LSTM and GRU gates). MLX 0.32's CPU `exp`
/// on float64 is only float32-accurate, so every loss carries noise of about
/// 1e-7 absolute, which a difference divides by the step. The five-point
/// stencil (truncation error about step^4 / 30 times the fifth derivative)
/// allows a step large enough to make that noise about 1e-6 while truncation
/// stays below it; with the three-point stencil no step gets both under 2e-5
/// for these layers.
const F64_EXP: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1e-2,
    tol: Tol {
        atol: 2e-5,
        rtol: 2e-5,
    },
};

/// Finite differences in float64 for `Rope`. The layer is linear in its input,
/// so the central difference has no truncation error, but MLX computes the
/// angles' cosines and sines to float32 accuracy only (about 1e-7), in the
/// forward and in the VJP separately.
const F64_TRIG: Fd = Fd {
    dtype: Dtype::Float64,
    step: 1e-3,
    tol: Tol {
        atol: 1e-6,
        rtol: 1e-6,
    },
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

/// `evaluate_with_gradients` of the output `y` with `cotangent`, on the CPU,
/// as named arrays with the fixtures' keys: `output`, `grad.input.<name>`,
/// `grad.weight.<name>`.
fn evaluate<M: Model>(
    graph_mode: bool,
    weights: &[Array],
    inputs: &[Array],
    cotangent: &Array,
) -> Result<Vec<(String, Array)>, String> {
    let backend = MlxBackend::builder()
        .device(Device::Cpu)
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
            compare(&format!("{case} {mode} {key}"), got, &want, FIXTURE_TOL)
        };
        vs_fixture = vs_fixture
            .max(vs_mlx("compiled", c)?)
            .max(vs_mlx("eager", e)?);
        let what = format!("{case} compiled vs eager {key}");
        modes = modes.max(compare(&what, c, e, MODES_TOL)?);
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
    /// The step h of the five-point stencil
    /// (8 (L(x + h) - L(x - h)) - (L(x + 2h) - L(x - 2h))) / 12h.
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
    let cast = |a: &Array| a.as_dtype(fd.dtype).map_err(|e| e.to_string());
    if fd.dtype != Dtype::Float64 {
        return Err(format!(
            "{case}: the five-point stencil here assumes float64"
        ));
    }
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
            // The five-point stencil: truncation error O(h^4), so a step
            // large enough to drown MLX's float32-accurate `exp` is possible.
            // (In float64 the points' rounding, about 1e-16, is negligible.)
            let (h, x) = (fd.step, base[j]);
            let near = loss_at(x + h)? - loss_at(x - h)?;
            let far = loss_at(x + 2.0 * h)? - loss_at(x - 2.0 * h)?;
            *g = (8.0 * near - far) / (12.0 * h);
        }
        primals[k] = original.clone();
        differences.push((name, Array::from_slice_f64(&grad, original.shape())));
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

/// A one-layer model: `x -> layer: <call> => y`, or with inputs `q`, `k` and
/// `v` the layer at the head of the flow, `layer: <call>(q, k, v) => y`.
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

// The fixture cases: the layer calls of cases_sequence.json; sequence lengths
// (and batch and head counts) symbolic, feature sizes literal.
layer_model!(SdpaCase, q: [B, H, T, 4], k: [B, H, S, 4], v: [B, H, S, 3],
    ScaledDotProductAttention);
layer_model!(SdpaCausalCase, q: [B, H, T, 4], k: [B, H, T, 4], v: [B, H, T, 4],
    ScaledDotProductAttention(causal = true));
layer_model!(SdpaCausalRectCase, q: [B, H, T, 4], k: [B, H, S, 4], v: [B, H, S, 2],
    ScaledDotProductAttention(causal = true));
layer_model!(MhaCase, q: [B, T, 6], k: [B, S, 4], v: [B, S, 5], MultiHeadAttention(8, 2));
layer_model!(MhaSelfCausalBiasCase, x: [B, T, 8],
    MultiHeadAttention(dims = 8, heads = 2, causal = true, bias = true));
layer_model!(MhaSelf4HeadsCase, x: [B, T, 6], MultiHeadAttention(8, 4));
layer_model!(RopeCase, x: [B, T, 8], Rope(8));
layer_model!(RopePartialTraditionalCase, x: [B, H, T, 8], Rope(4, traditional = true, base = 100));
layer_model!(RopeScaleCase, x: [B, T, 6], Rope(6, scale = 0.5));
layer_model!(LstmCase, x: [B, T, 3], Lstm(5));
layer_model!(LstmNobiasCase, x: [B, T, 2], Lstm(4, bias = false));
layer_model!(GruCase, x: [B, T, 3], Gru(5));
layer_model!(GruNobiasCase, x: [B, T, 2], Gru(4, bias = false));

// Variants without fixtures, checked against finite differences only.
layer_model!(SdpaSingleStepCase, q: [2, 1, 1, 3], k: [2, 1, 4, 3], v: [2, 1, 4, 5],
    ScaledDotProductAttention(causal = true));
layer_model!(MhaCrossCausalBiasCase, q: [2, 2, 4], k: [2, 3, 6], v: [2, 3, 6],
    MultiHeadAttention(4, 2, causal = true, bias = true));
layer_model!(MhaOneHeadCase, x: [1, 3, 4], MultiHeadAttention(6, 1));
layer_model!(RopeOddPositionsCase, x: [1, 7, 4], Rope(4, base = 10));
layer_model!(LstmLongCase, x: [2, 7, 2], Lstm(3));
layer_model!(LstmOneStepCase, x: [3, 1, 2], Lstm(2));
layer_model!(GruLongCase, x: [2, 7, 2], Gru(3));
layer_model!(GruOneStepCase, x: [3, 1, 2], Gru(2));

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
    "sdpa" => SdpaCase: F64_EXP,
    "sdpa_causal" => SdpaCausalCase: F64_EXP,
    "sdpa_causal_rect" => SdpaCausalRectCase: F64_EXP,
    "mha" => MhaCase: F64_EXP,
    "mha_self_causal_bias" => MhaSelfCausalBiasCase: F64_EXP,
    "mha_self_4heads" => MhaSelf4HeadsCase: F64_EXP,
    "rope" => RopeCase: F64_TRIG,
    "rope_partial_traditional" => RopePartialTraditionalCase: F64_TRIG,
    "rope_scale" => RopeScaleCase: F64_TRIG,
    "lstm" => LstmCase: F64_EXP,
    "lstm_nobias" => LstmNobiasCase: F64_EXP,
    "gru" => GruCase: F64_EXP,
    "gru_nobias" => GruNobiasCase: F64_EXP,
};

const FD_ONLY_CASES: &[Case] = cases! { check_fd_only:
    "sdpa_one_query_causal" => SdpaSingleStepCase: F64_EXP,
    "mha_cross_causal_bias" => MhaCrossCausalBiasCase: F64_EXP,
    "mha_one_head" => MhaOneHeadCase: F64_EXP,
    "rope_seven_positions" => RopeOddPositionsCase: F64_TRIG,
    "lstm_seven_steps" => LstmLongCase: F64_EXP,
    "lstm_one_step" => LstmOneStepCase: F64_EXP,
    "gru_seven_steps" => GruLongCase: F64_EXP,
    "gru_one_step" => GruOneStepCase: F64_EXP,
};

/// Runs every case (all of them, whatever fails), prints the table and fails
/// with every failure.
fn run_table(title: &str, cases: &[Case]) {
    let cell = |w: Option<Worst>| w.map_or("-".to_string(), |w| w.to_string());
    println!("\n{title}");
    println!(
        "{:26} {:68} {:>15} {:>15} {:>15}",
        "case", "layer", "vs MLX", "compiled/eager", "VJP vs FD"
    );
    let mut failures = Vec::new();
    for case in cases {
        let precision = match case.fd.dtype {
            Dtype::Float64 => "f64",
            _ => "f32",
        };
        let row = format!("{:26} {:68}", case.name, (case.call)());
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

/// The fixture cases are exactly those of `cases_sequence.json`, with the same layer calls.
#[test]
fn fixture_cases_are_those_of_the_index() {
    let index = std::fs::read_to_string(format!("{FIXTURES}/cases_sequence.json")).unwrap();
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
    assert_eq!(layers.len(), 13);
    assert_eq!(FIXTURE_CASES.len(), layers.len());
    for case in FIXTURE_CASES {
        let layer = layers
            .get(case.name)
            .unwrap_or_else(|| panic!("case `{}` is not in cases_sequence.json", case.name));
        assert_eq!(&(case.call)(), layer, "case `{}`", case.name);
    }
}

#[test]
fn sequence_layers_match_python_mlx_and_finite_differences() {
    run_table(
        "Fixture cases: max |diff| (share of tolerance); vs MLX and compiled/eager in f32",
        FIXTURE_CASES,
    );
}

#[test]
fn sequence_layer_variants_match_finite_differences() {
    run_table(
        "Variants without fixtures: VJP vs finite differences",
        FD_ONLY_CASES,
    );
}

/// Symbolic sequence lengths flow through every rule; parameter names and
/// layouts are mlx.nn's, and the typed fields are their lowercase forms.
#[test]
fn shapes_and_parameter_names() {
    assert_eq!(SdpaCase::OUTPUT_SHAPES, &[("y", "[B, H, T, 3]")]);
    assert_eq!(MhaCase::OUTPUT_SHAPES, &[("y", "[B, T, 8]")]);
    assert_eq!(
        RopePartialTraditionalCase::OUTPUT_SHAPES,
        &[("y", "[B, H, T, 8]")]
    );
    assert_eq!(LstmCase::OUTPUT_SHAPES, &[("y", "[B, T, 5]")]);
    assert_eq!(GruCase::OUTPUT_SHAPES, &[("y", "[B, T, 5]")]);
    let paths = |g: &mithril::core::Graph| -> Vec<(String, Vec<usize>)> {
        g.weights
            .iter()
            .map(|w| (w.path.clone(), w.shape.clone()))
            .collect()
    };
    let p = |s: &str, shape: &[usize]| (s.to_string(), shape.to_vec());
    assert_eq!(
        paths(mithril::graph_of::<MhaSelfCausalBiasCase>()),
        [
            p("layer.query_proj.weight", &[8, 8]),
            p("layer.query_proj.bias", &[8]),
            p("layer.key_proj.weight", &[8, 8]),
            p("layer.key_proj.bias", &[8]),
            p("layer.value_proj.weight", &[8, 8]),
            p("layer.value_proj.bias", &[8]),
            p("layer.out_proj.weight", &[8, 8]),
            p("layer.out_proj.bias", &[8]),
        ]
    );
    assert_eq!(
        paths(mithril::graph_of::<MhaCase>()),
        [
            p("layer.query_proj.weight", &[8, 6]),
            p("layer.key_proj.weight", &[8, 4]),
            p("layer.value_proj.weight", &[8, 5]),
            p("layer.out_proj.weight", &[8, 8]),
        ]
    );
    assert_eq!(
        paths(mithril::graph_of::<LstmCase>()),
        [
            p("layer.Wx", &[20, 3]),
            p("layer.Wh", &[20, 5]),
            p("layer.bias", &[20])
        ]
    );
    assert_eq!(
        paths(mithril::graph_of::<GruCase>()),
        [
            p("layer.Wx", &[15, 3]),
            p("layer.Wh", &[15, 5]),
            p("layer.b", &[15]),
            p("layer.bhn", &[5])
        ]
    );
    assert!(mithril::graph_of::<RopeCase>().weights.is_empty());
    // Typed fields.
    let _: fn(&MhaSelfCausalBiasCaseParams) -> [&Array; 8] = |p| {
        let l = &p.layer;
        [
            &l.query_proj_weight,
            &l.query_proj_bias,
            &l.key_proj_weight,
            &l.key_proj_bias,
            &l.value_proj_weight,
            &l.value_proj_bias,
            &l.out_proj_weight,
            &l.out_proj_bias,
        ]
    };
    let _: fn(&LstmCaseParams) -> [&Array; 3] = |p| [&p.layer.wx, &p.layer.wh, &p.layer.bias];
    let _: fn(&GruCaseParams) -> [&Array; 4] =
        |p| [&p.layer.wx, &p.layer.wh, &p.layer.b, &p.layer.bhn];
}

/// mlx.nn's initialisation: Linear's ±1/sqrt(fan_in) for the attention
/// projections, ±1/sqrt(hidden) for every LSTM and GRU parameter.
#[test]
fn initialisation_bounds_are_mlx_nn_s() {
    let backend = MlxBackend::builder().seed(3).build().unwrap();
    let max_abs = |a: &Array| a.abs().unwrap().max(None).unwrap().item_exact::<f32>();
    let mha = MhaCase::init(&backend).unwrap();
    for (w, fan_in) in [
        (&mha.layer.query_proj_weight, 6.0f32),
        (&mha.layer.key_proj_weight, 4.0),
        (&mha.layer.value_proj_weight, 5.0),
        (&mha.layer.out_proj_weight, 8.0),
    ] {
        let m = max_abs(w);
        assert!(
            m <= 1.0 / fan_in.sqrt() && m > 0.5 / fan_in.sqrt(),
            "{m} for fan-in {fan_in}"
        );
    }
    let lstm = LstmCase::init(&backend).unwrap();
    for w in [&lstm.layer.wx, &lstm.layer.wh, &lstm.layer.bias] {
        let m = max_abs(w);
        assert!(m <= 1.0 / 5f32.sqrt() && m > 0.2, "{m}");
    }
}

mithril::model! {
    /// docs/layers.md's example.
    Tagger {
        input tokens: [B, T, 16];
        tokens -> rnn: Lstm(32) -> attn: MultiHeadAttention(32, 4, causal = true)
               -> head: Linear(5) => logits;      // [B, T, 5]
        output logits;
    }
}

/// docs/layers.md's example runs for two sequence lengths, compiled and
/// eager alike, and is causal: changing the last step changes only the last
/// output step.
#[test]
fn docs_example_runs_and_is_causal() {
    assert_eq!(Tagger::OUTPUT_SHAPES, &[("logits", "[B, T, 5]")]);
    let backend = MlxBackend::builder().seed(5).build().unwrap();
    let params = Tagger::init(&backend).unwrap();
    let mut compiled = mithril::compile::<Tagger>(&backend);
    for t in [3, 6] {
        let x = backend.uniform(&[2, t, 16], -1.0, 1.0).unwrap();
        let eager = Tagger::forward(&params, &TaggerInputs { tokens: x.clone() }).unwrap();
        let graph = compiled
            .evaluate(&params, &TaggerInputs { tokens: x.clone() })
            .unwrap();
        assert_eq!(eager.logits.shape(), &[2, t, 5]);
        let diff = eager.logits.subtract(&graph.logits).unwrap().abs().unwrap();
        assert!(diff.max(None).unwrap().item_exact::<f32>() < 1e-5);
        // Perturb the last step only.
        let bump = Array::from_slice(&[0.5f32; 16], &[1, 1, 16]);
        let mask: Vec<f32> = (0..t).map(|i| if i == t - 1 { 1.0 } else { 0.0 }).collect();
        let mask = Array::from_slice(&mask, &[1, t, 1]);
        let x2 = x.add(bump.multiply(&mask).unwrap()).unwrap();
        let moved = Tagger::forward(&params, &TaggerInputs { tokens: x2 }).unwrap();
        let change = moved.logits.subtract(&eager.logits).unwrap().abs().unwrap();
        let per_step =
            mithril::tensor::to_vec::<f32>(&change.max_axes(&[0, 2], None).unwrap()).unwrap();
        assert!(
            per_step[..t as usize - 1].iter().all(|c| *c == 0.0),
            "{per_step:?}"
        );
        assert!(per_step[t as usize - 1] > 0.0);
    }
}

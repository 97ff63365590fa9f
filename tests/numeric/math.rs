//! Functions of one value (`mithril-core/src/layers/math.rs`): `Negate`,
//! `Exp`, `Log`, `Sqrt`, `Abs`, `Square`, `Sin`, `Cos`, `Clip`,
//! `StopGradient`, and Mithril's robust operators (`RobustLog`,
//! `RobustSqrt`, `StableReciprocal`, `RobustPower`), which
//! `scripts/fixtures/make_math_fixtures.py` writes as Mithril's MLX backend
//! does. The robust operators are also checked against Mithril's own test
//! cases (its `primitives_directed_test.json`) at the points they exist for
//! (0, values below the cutoff, a base at the cutoff), in float64.

use crate::harness::{
    Case, F64, F64_EXP_FIVE_POINT, Tol, backend, cases, check_fixture, check_fixture_only,
    layer_model, run_tables, values,
};
use crate::suites::MATH;
use mithril::mlx_rs::Array;
use mithril::{Device, Model, Params, Values};

// The fixture cases: the layer calls of cases_math.json, the fixtures' shapes.
layer_model!(NegateCase, x: [B, 4], Negate);
layer_model!(ExpCase, x: [B, 4], Exp);
layer_model!(LogCase, x: [B, 4], Log);
layer_model!(SqrtCase, x: [B, 4], Sqrt);
layer_model!(AbsCase, x: [B, 4], Abs);
layer_model!(SquareCase, x: [B, 4], Square);
layer_model!(SinCase, x: [B, 4], Sin);
layer_model!(CosCase, x: [B, 4], Cos);
layer_model!(ClipCase, x: [B, 4], Clip(-0.5, 0.5));
layer_model!(StopGradientCase, x: [B, 4], StopGradient);
layer_model!(RobustLogCase, x: [B, 4], RobustLog);
layer_model!(RobustLogThresholdCase, x: [B, 4], RobustLog(threshold = 0.5));
layer_model!(RobustSqrtCase, x: [B, 4], RobustSqrt);
layer_model!(RobustSqrtThresholdCase, x: [B, 4], RobustSqrt(threshold = 0.5));
layer_model!(StableReciprocalCase, x: [B, 4], StableReciprocal);
layer_model!(StableReciprocalThresholdCase, x: [B, 4], StableReciprocal(threshold = 0.5));
layer_model!(RobustPowerCase, a: [B, 4], b: [1, 4], RobustPower);
layer_model!(RobustPowerThresholdCase, a: [B, 4], b: [B, 4], RobustPower(threshold = 0.5));

/// Fixture cases of `cases_math.json`.
pub const MATH_FIXTURES: &[Case] = cases! { check_fixture:
    "negate" => NegateCase: F64,
    "exp" => ExpCase: F64_EXP_FIVE_POINT,
    "log" => LogCase: F64,
    "sqrt" => SqrtCase: F64,
    "abs" => AbsCase: F64,
    "square" => SquareCase: F64,
    "sin" => SinCase: F64_EXP_FIVE_POINT,
    "cos" => CosCase: F64_EXP_FIVE_POINT,
    "clip" => ClipCase: F64,
    "robust_log" => RobustLogCase: F64,
    "robust_log_threshold" => RobustLogThresholdCase: F64,
    "robust_sqrt" => RobustSqrtCase: F64,
    "robust_sqrt_threshold" => RobustSqrtThresholdCase: F64,
    "stable_reciprocal" => StableReciprocalCase: F64,
    "stable_reciprocal_threshold" => StableReciprocalThresholdCase: F64,
    "robust_power" => RobustPowerCase: F64,
    "robust_power_threshold" => RobustPowerThresholdCase: F64,
};

/// Fixture cases of `cases_math.json` without finite differences:
/// `StopGradient`'s gradient is zero by definition, not the derivative of
/// its output (the identity): compared with the fixture (MLX's zero) only.
pub const MATH_FIXTURES_ONLY: &[Case] = cases! { check_fixture_only:
    "stop_gradient" => StopGradientCase: F64,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[
        ("Math layers, fixture cases", &MATH, MATH_FIXTURES),
        ("StopGradient (fixture only)", &MATH, MATH_FIXTURES_ONLY),
    ]);
}

// ---------------------------------------------------------------------------
// Mithril's own test cases for its robust operators

/// Mithril's values and gradients (float64; its `tests/json_files/
/// primitives_directed_test.json`), with Mithril's cutoffs for float64.
/// `log`, `sqrt` and `power` are float64-accurate on MLX's CPU, so they
/// agree to within a few float64 roundings.
const MITHRIL_TOL: Tol = Tol {
    atol: 0.0,
    rtol: 1e-13,
};

mithril::model! {
    RobustLog3x2 { input x: [3, 2]; x -> layer: RobustLog => y; output y; }
    RobustLog1 { input x: [1, 1, 1]; x -> layer: RobustLog => y; output y; }
    RobustSqrt2x2 { input x: [2, 2]; x -> layer: RobustSqrt => y; output y; }
    RobustSqrtSmall { input x: [1, 3]; x -> layer: RobustSqrt(threshold = 1e-20) => y; output y; }
    StableReciprocal3x2 { input x: [3, 2]; x -> layer: StableReciprocal => y; output y; }
    StableReciprocal1 { input x: [1, 1]; x -> layer: StableReciprocal => y; output y; }
    StableReciprocal1x2 { input x: [1, 2]; x -> layer: StableReciprocal => y; output y; }
    RobustPowerColumn { input a: [2, 1], b: [2, 1]; layer: RobustPower(a, b) => y; output y; }
    RobustPowerOuter { input a: [3, 1], b: [1, 2]; layer: RobustPower(a, b) => y; output y; }
    RobustPowerRows { input a: [2], b: [3, 2]; layer: RobustPower(a, b) => y; output y; }
}

/// Runs one of Mithril's cases in float64, compiled and eager: the output
/// with `inputs`, and the input gradients with `cotangent`, against
/// Mithril's expected ones.
fn mithril_case<M: Model>(
    name: &str,
    inputs: &[&[f64]],
    cotangent: &[f64],
    output: &[f64],
    grads: &[&[f64]],
) -> Result<(), String> {
    let graph = mithril::runtime::graph_of::<M>();
    let shape = |s: &mithril::runtime::Shape| -> Vec<i32> {
        s.as_known().unwrap().iter().map(|&d| d as i32).collect()
    };
    let arrays: Vec<Array> = graph
        .inputs
        .iter()
        .zip(inputs)
        .map(|(i, v)| Array::from_slice_f64(v, &shape(&i.shape)))
        .collect();
    let cotangent = Array::from_slice_f64(cotangent, &shape(&graph.outputs[0].shape));
    let close = |what: &str, got: &Array, want: &[f64]| -> Result<(), String> {
        let got = values(got)?;
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            let bad = (g - w).abs() > MITHRIL_TOL.atol + MITHRIL_TOL.rtol * w.abs();
            if bad || g.is_nan() {
                return Err(format!("{name} {what}[{i}]: {g:e}, Mithril's {w:e}"));
            }
        }
        Ok(())
    };
    for graph_mode in [true, false] {
        let backend = backend(Device::Cpu, graph_mode)?;
        let params = M::Params::from_arrays(&mut std::iter::empty()).ok_or("params")?;
        let inputs = M::Inputs::from_arrays(arrays.clone()).ok_or("inputs")?;
        let mut model = mithril::compile::<M>(&backend);
        let (out, g) = model
            .evaluate_with_gradients(&params, &inputs, &[("y", cotangent.clone())])
            .map_err(|e| e.to_string())?;
        close("output", out.arrays()[0], output)?;
        for ((grad, want), input) in g
            .inputs
            .arrays()
            .into_iter()
            .zip(grads)
            .zip(M::Inputs::NAMES)
        {
            close(&format!("gradient of {input}"), grad, want)?;
        }
    }
    Ok(())
}

/// The robust operators give Mithril's values and gradients at the points
/// they exist for: log and sqrt of 0 and below the cutoff, the reciprocal of
/// 0, a power of 0 and of a base at the cutoff. Where Mithril's backends
/// disagree at exactly 0 (the kink of |x|), the gradient is MLX's and
/// Mithril's PyTorch backend's, 0; its NumPy and JAX backends give 1 / t
/// for `robust_log` there.
#[test]
// Mithril's expected values as its tests write them (ln 2, sqrt 2, ...).
#[allow(clippy::approx_constant)]
fn robust_operators_match_mithrils_test_cases() {
    let ones = [1.0; 6];
    let cases: Vec<(&str, Result<(), String>)> = vec![
        (
            "test_robust_log_1",
            mithril_case::<RobustLog3x2>(
                "test_robust_log_1",
                &[&[2.0, 2.0, 3.0, 4.0, 4.0, 100.0]],
                &ones,
                &[
                    0.6931471805599453,
                    0.6931471805599453,
                    1.0986122886681098,
                    1.3862943611198906,
                    1.3862943611198906,
                    4.605170185988092,
                ],
                &[&[0.5, 0.5, 0.3333333333333333, 0.25, 0.25, 0.01]],
            ),
        ),
        (
            "test_robust_log_2",
            mithril_case::<RobustLog1>(
                "test_robust_log_2",
                &[&[0.0]],
                &[1.0],
                &[-709.3964185322641],
                &[&[0.0]],
            ),
        ),
        (
            "test_robust_sqrt_1",
            mithril_case::<RobustSqrt2x2>(
                "test_robust_sqrt_1",
                &[&[1.0, 2.0, 3.0, 4.0]],
                &[1.0; 4],
                &[1.0, 1.4142135623730951, 1.7320508075688772, 2.0],
                &[&[0.5, 0.35355339059327373, 0.2886751345948129, 0.25]],
            ),
        ),
        (
            "test_robust_sqrt_4",
            mithril_case::<RobustSqrt2x2>(
                "test_robust_sqrt_4",
                &[&[0.0, -4.0, -1.0, -4.0]],
                &[1.0; 4],
                &[0.0, 2.0, 1.0, 2.0],
                &[&[0.0, -0.25, -0.5, -0.25]],
            ),
        ),
        (
            "test_robust_sqrt_5",
            mithril_case::<RobustSqrtSmall>(
                "test_robust_sqrt_5",
                &[&[9.999999999999e-21, 1.0000000000001e-20, 0.0]],
                &[1.0; 3],
                &[9.999999999999e-11, 1.00000000000005e-10, 0.0],
                &[&[10000000000.0, 4999999999.99975, 0.0]],
            ),
        ),
        (
            "test_stable_reciprocal_1",
            mithril_case::<StableReciprocal3x2>(
                "test_stable_reciprocal_1",
                &[&[2.0, 2.0, 3.0, 4.0, 4.0, 100.0]],
                &ones,
                &[0.5, 0.5, 0.3333333333333333, 0.25, 0.25, 0.01],
                &[&[-0.25, -0.25, -0.1111111111111111, -0.0625, -0.0625, -0.0001]],
            ),
        ),
        (
            "test_stable_reciprocal_2",
            mithril_case::<StableReciprocal1>(
                "test_stable_reciprocal_2",
                &[&[0.0]],
                &[1.0],
                &[1.3407807929942598e153],
                &[&[-4.49423283715579e305]],
            ),
        ),
        (
            "test_stable_reciprocal_3",
            mithril_case::<StableReciprocal1x2>(
                "test_stable_reciprocal_3",
                &[&[1e-155, 1e-145]],
                &[1.0, 1.0],
                &[1.336286560157104e153, 1e145],
                &[&[-4.49423283715579e305, -1e290]],
            ),
        ),
        (
            "test_robust_power_1",
            mithril_case::<RobustPowerColumn>(
                "test_robust_power_1",
                &[&[0.0, 2.2250738585072014e-308], &[0.5, 0.2]],
                &[1.0, 1.0],
                &[0.0, 2.9476022969692e-62],
                &[
                    &[0.0, 2.6494422067830456e245],
                    &[0.0, -2.08807091043044e-59],
                ],
            ),
        ),
        (
            "test_robust_power_2",
            mithril_case::<RobustPowerOuter>(
                "test_robust_power_2",
                &[&[2.0, 3.0, 4.0], &[2.0, 3.0]],
                &[1.0; 6],
                &[4.0, 8.0, 9.0, 27.0, 16.0, 64.0],
                &[
                    &[16.0, 33.0, 56.0],
                    &[34.84080909817102, 123.93054835019151],
                ],
            ),
        ),
        (
            "test_robust_power_5",
            mithril_case::<RobustPowerRows>(
                "test_robust_power_5",
                &[&[1.0, 2.0], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]],
                &[1.0; 6],
                &[1.0, 4.0, 1.0, 16.0, 1.0, 64.0],
                &[
                    &[9.0, 228.0],
                    &[
                        0.0,
                        2.772588722239781,
                        0.0,
                        11.090354888959125,
                        0.0,
                        44.3614195558365,
                    ],
                ],
            ),
        ),
    ];
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|(name, r)| r.err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

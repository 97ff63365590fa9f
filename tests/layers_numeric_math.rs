//! Numeric checks of the math layers: binary arithmetic (`Divide`, `Power`,
//! `Maximum`, `Minimum`), functions of one value (`Negate`, `Exp`, `Log`,
//! `Sqrt`, `Abs`, `Square`, `Sin`, `Cos`, `Clip`, `StopGradient`), Mithril's
//! robust operators (`RobustLog`, `RobustSqrt`, `StableReciprocal`,
//! `RobustPower`), `Where` with `Greater`, `Less` and `Equal`, the
//! reductions `Min`, `Prod`, `LogSumExp`, `Var`, `Std` and `ArgMax`, and
//! asymmetric padding and unbatched inputs of convolutions and pools.
//!
//! 1. Against Python MLX: each case of `tests/fixtures/layers/cases_math.json`
//!    (made with MLX 0.32.2 by `scripts/fixtures/make_math_fixtures.py`,
//!    which writes the robust operators as Mithril's MLX backend does) runs
//!    through `evaluate_with_gradients`, compiled and eager, with the
//!    fixture's inputs, parameters and cotangent; outputs and gradients must
//!    match the fixture and the two modes each other.
//! 2. Against finite differences of L = sum(output * cotangent), one element
//!    of every float input and parameter at a time, on the fixture data (see
//!    the `Fd` constants for the steps and tolerances).
//! 3. Against Mithril's own test cases (its `primitives_directed_test.json`)
//!    for the robust operators at the points they exist for (0, values
//!    below the cutoff, a base at the cutoff), in float64.
//! 4. Comparisons and `ArgMax` (boolean and index outputs have no cotangent):
//!    values worked out by hand, and no gradient through them.
//!
//! `cargo test --test layers_numeric_math -- --nocapture` prints the tables.

mod common;

use common::numeric::{
    Case, Dtypes, F32_AFFINE, F64, F64_EXP_FIVE_POINT, FIXTURE_TOL, MODES_TOL, Suite, Tol, backend,
    cases, check_fixture, check_fixture_only, check_index, layer_model, run_table, values,
};
use mithril::mlx_rs::{Array, Dtype};
use mithril::{Device, Model, Params, Values};

const INDEX: &str = "cases_math.json";

const SUITE: Suite = Suite {
    fixture_tol: FIXTURE_TOL,
    modes_tol: MODES_TOL,
    dtypes: Dtypes::Kept,
    known_bugs: &[],
    columns: (28, 64),
};

// ---------------------------------------------------------------------------
// The models: one layer named `layer`, output `y` (`common::numeric::layer_model!`),
// with the fixtures' shapes; batch and spatial sizes symbolic where they can be.

layer_model!(DivideCase, a: [B, 4], b: [1, 4], Divide);
layer_model!(PowerCase, a: [B, 4], b: [B, 4], Power);
layer_model!(MaximumCase, a: [2, B, 4], b: [B, 4], Maximum);
layer_model!(MinimumCase, a: [B, 4], b: [B, 1], Minimum);
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
layer_model!(MinCase, x: [B, 3, 4], Min(axes = 1));
layer_model!(ProdCase, x: [B, 4], Prod(axes = -1, keepdims = true));
layer_model!(LogSumExpCase, x: [B, 3, 4], LogSumExp(axes = [0, 2]));
layer_model!(VarCase, x: [B, 3], Var(axes = 0, ddof = 1));
layer_model!(StdCase, x: [B, 5], Std(axes = 1, keepdims = true));
layer_model!(VarAllCase, x: [B, 4], Var);
layer_model!(Conv1dPadCase, x: [B, L, 3], Conv1d(4, 3, padding = (2, 1)));
layer_model!(Conv2dPadCase, x: [B, H, W, 2],
    Conv2d(3, (3, 2), stride = (2, 1), padding = ((1, 0), (0, 2))));
layer_model!(MaxPool2dPadCase, x: [B, H, W, 2],
    MaxPool2d(kernel = 2, stride = 1, padding = ((1, 0), (0, 1))));
layer_model!(AvgPool2dPadCase, x: [B, 5, 4, 3], AvgPool2d(kernel = (2, 3), padding = ((0, 1), 1)));
layer_model!(MaxPool1dPadCase, x: [B, 7, 3], MaxPool1d(2, padding = (0, 1)));
layer_model!(AvgPool1dPadCase, x: [B, 8, 2], AvgPool1d(kernel = 3, stride = 2, padding = (1, 0)));
layer_model!(MaxPool2dUnbatchedCase, x: [H, W, 3], MaxPool2d(2));
layer_model!(AvgPool1dUnbatchedCase, x: [L, 2], AvgPool1d(kernel = 3, stride = 1, padding = 1));

// `Where` with the comparison that makes its condition, and numbers as operands.
mithril::model! {
    WhereGreaterCase {
        input c: [B, 4], a: [B, 4], b: [4];
        Greater(c, 0) => mask;
        layer: Where(mask, a, b) => y;
        output y;
    }

    WhereLessNumberCase {
        input c: [B, 5], a: [B, 5];
        Less(c, 0.5) => mask;
        layer: Where(mask, a, 0) => y;
        output y;
    }

    WhereEqualCase {
        input k: [B, 4], a: [B, 4], b: [B, 4];
        Equal(k, 2) => mask;
        layer: Where(mask, a, b) => y;
        output y;
    }
}

// ---------------------------------------------------------------------------
// The table

const FIXTURE_CASES: &[Case] = cases! { check_fixture:
    "divide" => DivideCase: F64,
    "power" => PowerCase: F64,
    "maximum" => MaximumCase: F64,
    "minimum" => MinimumCase: F64,
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
    "min" => MinCase: F64,
    "prod" => ProdCase: F64,
    "logsumexp" => LogSumExpCase: F64_EXP_FIVE_POINT,
    "var_ddof1" => VarCase: F64,
    "std_keepdims" => StdCase: F64,
    "var_all" => VarAllCase: F64,
    "conv1d_pad_2_1" => Conv1dPadCase: F32_AFFINE,
    "conv2d_pad_asymmetric" => Conv2dPadCase: F32_AFFINE,
    "maxpool2d_pad_asymmetric" => MaxPool2dPadCase: F64,
    "avgpool2d_pad_asymmetric" => AvgPool2dPadCase: F64,
    "maxpool1d_pad_0_1" => MaxPool1dPadCase: F64,
    "avgpool1d_pad_1_0" => AvgPool1dPadCase: F64,
    "maxpool2d_unbatched" => MaxPool2dUnbatchedCase: F64,
    "avgpool1d_unbatched" => AvgPool1dUnbatchedCase: F64,
};

/// `StopGradient`'s gradient is zero by definition, not the derivative of
/// its output (the identity): compared with the fixture (MLX's zero) only.
const NO_FD_CASES: &[Case] = cases! { check_fixture_only:
    "stop_gradient" => StopGradientCase: F64,
};

/// The cases of models of several layers, named in the index by what they
/// compute (without spaces, as the index check compares them).
const COMPOUND_CASES: &[Case] = &[
    Case {
        name: "where_greater",
        call: || "Where(Greater(c,0),a,b)".to_string(),
        fd: F64,
        check: check_fixture::<WhereGreaterCase>,
    },
    Case {
        name: "where_less_number",
        call: || "Where(Less(c,0.5),a,0)".to_string(),
        fd: F64,
        check: check_fixture::<WhereLessNumberCase>,
    },
    Case {
        name: "where_equal",
        call: || "Where(Equal(k,2),a,b)".to_string(),
        fd: F64,
        check: check_fixture::<WhereEqualCase>,
    },
];

fn all_cases() -> Vec<&'static Case> {
    FIXTURE_CASES
        .iter()
        .chain(NO_FD_CASES)
        .chain(COMPOUND_CASES)
        .collect()
}

// ---------------------------------------------------------------------------
// Tests

/// The fixture cases are exactly those of `cases_math.json`, with the same
/// layer calls.
#[test]
fn fixture_cases_are_those_of_the_index() {
    let cases: Vec<Case> = all_cases()
        .into_iter()
        .map(|c| Case {
            name: c.name,
            call: c.call,
            fd: c.fd,
            check: c.check,
        })
        .collect();
    check_index(INDEX, 39, &cases);
}

#[test]
fn math_layers_match_python_mlx_and_finite_differences() {
    run_table(
        &SUITE,
        "Fixture cases: max |diff| (share of tolerance); vs MLX and compiled/eager in f32",
        FIXTURE_CASES,
    );
    run_table(&SUITE, "StopGradient (fixture only)", NO_FD_CASES);
    run_table(&SUITE, "Where and the comparisons", COMPOUND_CASES);
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

// ---------------------------------------------------------------------------
// Outputs without a gradient: comparisons and `ArgMax`

mithril::model! {
    Comparisons {
        input a: [2, 3], b: [3];
        Greater(a, b) => gt;
        Less(a, 0.5) => lt;
        Equal(a, b) => eq;
        a -> ArgMax(axis = 1) => rows;
        a -> ArgMax(keepdims = true) => flat;
        a -> Multiply(2) => twice;
        output gt, lt, eq, rows, flat, twice;
    }
}

/// Comparisons give boolean masks and `ArgMax` uint32 indices, with the
/// values worked out by hand; no gradient flows back through either, while
/// other outputs of the same model still get theirs.
#[test]
fn comparisons_and_argmax() {
    let a = Array::from_slice(&[0.0f32, 2.0, 1.0, 3.0, -1.0, 0.5], &[2, 3]);
    let b = Array::from_slice(&[0.0f32, 1.0, 2.0], &[3]);
    let bools = |x: &Array| -> Vec<bool> {
        assert_eq!(x.dtype(), Dtype::Bool);
        x.as_slice::<bool>().to_vec()
    };
    for graph_mode in [true, false] {
        let backend = backend(Device::Cpu, graph_mode).unwrap();
        let params = ComparisonsParams {};
        let inputs = ComparisonsInputs {
            a: a.clone(),
            b: b.clone(),
        };
        let mut model = mithril::compile::<Comparisons>(&backend);
        let out = model.evaluate(&params, &inputs).unwrap();
        assert_eq!(bools(&out.gt), [false, true, false, true, false, false]);
        assert_eq!(bools(&out.lt), [true, false, false, false, true, false]);
        assert_eq!(bools(&out.eq), [true, false, false, false, false, false]);
        assert_eq!(out.rows.dtype(), Dtype::Uint32);
        assert_eq!(out.rows.as_slice::<u32>(), [1, 0]);
        assert_eq!(out.flat.shape(), &[1, 1]);
        assert_eq!(out.flat.as_slice::<u32>(), [3]);

        // A cotangent on the indices gives zero gradients; one on `twice`, 2.
        let indices = Array::ones::<u32>(&[2]).unwrap();
        let (_, g) = model
            .evaluate_with_gradients(&params, &inputs, &[("rows", indices)])
            .unwrap();
        assert!(values(&g.inputs.a).unwrap().iter().all(|&v| v == 0.0));
        let (_, g) = model
            .evaluate_with_gradients(
                &params,
                &inputs,
                &[("twice", Array::ones::<f32>(&[2, 3]).unwrap())],
            )
            .unwrap();
        assert!(values(&g.inputs.a).unwrap().iter().all(|&v| v == 2.0));
        assert!(values(&g.inputs.b).unwrap().iter().all(|&v| v == 0.0));
    }
}

//! Attention (`mithril-core/src/layers/attention.rs`):
//! `ScaledDotProductAttention`, `MultiHeadAttention` and `Rope`.
//!
//! Sequence lengths (and batch and head counts) of the fixture cases are
//! symbolic, feature sizes literal; the variants add a single causal query,
//! three-input causal attention with T != S, one head and odd positions.

use crate::harness::{
    Case, F64_EXP_FIVE_POINT, Fd, Stencil, Tol, cases, check_fd_only, check_fixture, layer_model,
    run_tables, weight_shapes,
};
use crate::suites::SEQUENCE;
use mithril::MlxBackend;
use mithril::mlx_rs::{Array, Dtype};

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
    quantise: false,
    stencil: Stencil::FivePoint,
};

// The fixture cases: the layer calls of cases_sequence.json.
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

// Variants without fixtures, checked against finite differences only.
layer_model!(SdpaSingleStepCase, q: [2, 1, 1, 3], k: [2, 1, 4, 3], v: [2, 1, 4, 5],
    ScaledDotProductAttention(causal = true));
layer_model!(MhaCrossCausalBiasCase, q: [2, 2, 4], k: [2, 3, 6], v: [2, 3, 6],
    MultiHeadAttention(4, 2, causal = true, bias = true));
layer_model!(MhaOneHeadCase, x: [1, 3, 4], MultiHeadAttention(6, 1));
layer_model!(RopeOddPositionsCase, x: [1, 7, 4], Rope(4, base = 10));

/// Fixture cases of `cases_sequence.json`.
pub const SEQUENCE_FIXTURES: &[Case] = cases! { check_fixture:
    "sdpa" => SdpaCase: F64_EXP_FIVE_POINT,
    "sdpa_causal" => SdpaCausalCase: F64_EXP_FIVE_POINT,
    "sdpa_causal_rect" => SdpaCausalRectCase: F64_EXP_FIVE_POINT,
    "mha" => MhaCase: F64_EXP_FIVE_POINT,
    "mha_self_causal_bias" => MhaSelfCausalBiasCase: F64_EXP_FIVE_POINT,
    "mha_self_4heads" => MhaSelf4HeadsCase: F64_EXP_FIVE_POINT,
    "rope" => RopeCase: F64_TRIG,
    "rope_partial_traditional" => RopePartialTraditionalCase: F64_TRIG,
    "rope_scale" => RopeScaleCase: F64_TRIG,
};

/// Variants under the suite of `cases_sequence.json`.
const SEQUENCE_VARIANTS: &[Case] = cases! { check_fd_only:
    "sdpa_one_query_causal" => SdpaSingleStepCase: F64_EXP_FIVE_POINT,
    "mha_cross_causal_bias" => MhaCrossCausalBiasCase: F64_EXP_FIVE_POINT,
    "mha_one_head" => MhaOneHeadCase: F64_EXP_FIVE_POINT,
    "rope_seven_positions" => RopeOddPositionsCase: F64_TRIG,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[("Attention, fixture cases", &SEQUENCE, SEQUENCE_FIXTURES)]);
}

#[test]
fn variants_match_finite_differences() {
    run_tables(&[(
        "Attention, variants without fixtures: VJP vs finite differences",
        &SEQUENCE,
        SEQUENCE_VARIANTS,
    )]);
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
    let p = |s: &str, shape: &[usize]| (s.to_string(), shape.to_vec());
    assert_eq!(
        weight_shapes::<MhaSelfCausalBiasCase>(),
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
        weight_shapes::<MhaCase>(),
        [
            p("layer.query_proj.weight", &[8, 6]),
            p("layer.key_proj.weight", &[8, 4]),
            p("layer.value_proj.weight", &[8, 5]),
            p("layer.out_proj.weight", &[8, 8]),
        ]
    );
    assert!(mithril::runtime::graph_of::<RopeCase>().weights.is_empty());
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
}

/// mlx.nn's initialisation: Linear's ±1/sqrt(fan_in) for the attention
/// projections.
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

//! Selection (`mithril-core/src/layers/select.rs`): `Where` with the
//! comparisons `Greater`, `Less` and `Equal` that make its condition, and
//! numbers as operands. Comparisons and `ArgMax` (boolean and index outputs
//! have no cotangent) are checked with values worked out by hand, and no
//! gradient through them.

use crate::harness::{Case, F64, backend, check_fixture, run_tables, values};
use crate::suites::MATH;
use mithril::Device;
use mithril::mlx_rs::{Array, Dtype};

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

/// Fixture cases of `cases_math.json`: models of several layers, named in
/// the index by what they compute (without spaces, as the index check
/// compares them).
pub const MATH_FIXTURES: &[Case] = &[
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

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[("Where and the comparisons", &MATH, MATH_FIXTURES)]);
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

//! Numeric checks of every layer of the catalogue, one module per layer
//! area (the files of `mithril-core/src/layers/`).
//!
//! 1. Against Python MLX: each case of the fixture indexes of
//!    `tests/fixtures/layers/` (made with MLX 0.32.2:
//!    `cases.json` and `cases_sequence_blocks.json` by
//!    `scripts/fixtures/make_layer_fixtures.py`, `cases_sequence.json` by
//!    `scripts/fixtures/make_sequence_fixtures.py` from the mlx.nn modules
//!    with their weights swapped in, `cases_math.json` by
//!    `scripts/fixtures/make_math_fixtures.py`, which writes the robust
//!    operators as Mithril's MLX backend does; format in
//!    `scripts/fixtures/README.md`) runs as a one-layer model through
//!    `evaluate_with_gradients` with the fixture's parameters, inputs and
//!    cotangent, compiled and eager. Output, input gradients and parameter
//!    gradients must match the fixture, and the two modes each other.
//!    Integer inputs (`Embedding`'s indices) have no gradient in the
//!    fixture; Mithril's must be all zeros.
//! 2. Against central finite differences: the vector-Jacobian product of
//!    every case (on the fixture data, and on variants the fixtures lack:
//!    strides, dilations and padding of convolutions and pools,
//!    broadcasting, a three-way concat, `Lambda` custom ops, symbolic
//!    feature sizes, longer sequences, causal attention with T != S) is
//!    compared with finite differences of L = sum(output * cotangent) with
//!    respect to every element of every float input and parameter. In
//!    float64 where MLX computes the op in float64 on the CPU. The steps and
//!    tolerances differ by what limits them (MLX's float32-accurate `exp`,
//!    `sin` and `cos`, the float32 fallback of the fast norms, convolutions
//!    without a float64 kernel, exact casts): see the `Fd` constants of
//!    `harness` (`F64`, `F64_EXP`, `F64_EXP_FIVE_POINT`, `F32_AFFINE`) and
//!    of the areas that need their own (`norm`, `attention`, `shape_ops`).
//! 3. Special checks of their areas: Mithril's own test cases for the robust
//!    operators (`math`), comparisons and `ArgMax` (`select`), shapes,
//!    parameter names and initialisation, the errors for bad input.
//!
//! Each case runs under the [`suites`] of its fixture index (tolerances, how
//! dtypes are compared); each index's cases, gathered from every area, must
//! be exactly those the index lists ([`index`]).
//!
//! `cargo test --test numeric -- --nocapture` prints the tables of the
//! largest errors (and the share of the tolerance they use);
//! `cargo test --test numeric norm:: -- --nocapture` those of one area.

mod harness;
mod suites;

mod activation;
mod attention;
mod combine;
mod conv;
mod custom;
mod dense;
mod math;
mod norm;
mod pool;
mod recurrent;
mod reduce;
mod reshape;
mod select;
mod shape_ops;

/// Each index's fixture cases, gathered from the areas, are exactly the
/// cases of the index, with the same layer calls.
mod index {
    use crate::harness::check_index;
    use crate::suites::{CORE, MATH, SEQUENCE, TYPED};
    use crate::*;

    #[test]
    fn cases_json() {
        let tables = [
            dense::CORE_FIXTURES,
            conv::CORE_FIXTURES,
            pool::CORE_FIXTURES,
            reshape::CORE_FIXTURES,
            activation::CORE_FIXTURES,
            combine::CORE_FIXTURES,
        ];
        check_index(&CORE, tables.into_iter().flatten());
    }

    #[test]
    fn cases_sequence_blocks_json() {
        let tables = [
            conv::TYPED_FIXTURES,
            pool::TYPED_FIXTURES,
            dense::TYPED_FIXTURES,
            norm::TYPED_FIXTURES,
            activation::TYPED_FIXTURES,
            shape_ops::TYPED_FIXTURES,
            reduce::TYPED_FIXTURES,
        ];
        check_index(&TYPED, tables.into_iter().flatten());
    }

    #[test]
    fn cases_sequence_json() {
        let tables = [attention::SEQUENCE_FIXTURES, recurrent::SEQUENCE_FIXTURES];
        check_index(&SEQUENCE, tables.into_iter().flatten());
    }

    #[test]
    fn cases_math_json() {
        let tables = [
            combine::MATH_FIXTURES,
            math::MATH_FIXTURES,
            math::MATH_FIXTURES_ONLY,
            reduce::MATH_FIXTURES,
            conv::MATH_FIXTURES,
            pool::MATH_FIXTURES,
            select::MATH_FIXTURES,
        ];
        check_index(&MATH, tables.into_iter().flatten());
    }
}

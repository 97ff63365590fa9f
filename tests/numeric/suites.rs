//! The suites: what the harness sets for the cases of each fixture index of
//! `tests/fixtures/layers/`, and for the variants checked alongside them.
//! Fixture comparisons on the GPU use `harness::GPU_TOL` instead of the
//! suites' tolerances.

use crate::harness::{Dtypes, FIXTURE_TOL, MODES_TOL, Suite};

/// Fixture cases of [`CORE`] that fail because of a known bug: each must
/// still fail with an error containing the given text (the table says so);
/// once it passes, the test fails until the entry is removed.
pub const KNOWN_BUGS: &[(&str, &str)] = &[];

/// `cases.json` (`scripts/fixtures/make_layer_fixtures.py`): `Linear`,
/// `Conv2d`, the 2-D pools, `Flatten`, `Reshape`, the first activations,
/// `Add`, `Subtract`, `Multiply`, `MatMul` and `Concat`; and the variants
/// without fixtures of these layers and of `Lambda`.
pub const CORE: Suite = Suite {
    index: "cases.json",
    cases: 28,
    fixture_tol: FIXTURE_TOL,
    modes_tol: MODES_TOL,
    dtypes: Dtypes::Kept,
    known_bugs: KNOWN_BUGS,
    columns: (32, 72),
};

/// `cases_sequence_blocks.json` (`scripts/fixtures/make_layer_fixtures.py`): the building
/// blocks of sequence models (`Conv1d`, the 1-D pools, `Embedding`, the
/// norms, `Softplus`, `Silu`, `GeluApprox`, `GeluFast`, the shape
/// operations, `Mean`, `Sum`, `Max`) and `Cast`. `Cast` changes dtypes, so
/// comparisons check them.
pub const TYPED: Suite = Suite {
    index: "cases_sequence_blocks.json",
    cases: 33,
    fixture_tol: FIXTURE_TOL,
    modes_tol: MODES_TOL,
    dtypes: Dtypes::Followed,
    known_bugs: &[],
    columns: (30, 66),
};

/// `cases_sequence.json` (`scripts/fixtures/make_sequence_fixtures.py`, from
/// the mlx.nn modules with their weights swapped in): attention, `Rope`,
/// `Lstm` and `Gru`.
pub const SEQUENCE: Suite = Suite {
    index: "cases_sequence.json",
    cases: 13,
    fixture_tol: FIXTURE_TOL,
    modes_tol: MODES_TOL,
    dtypes: Dtypes::Kept,
    known_bugs: &[],
    columns: (26, 68),
};

/// `cases_math.json` (`scripts/fixtures/make_math_fixtures.py`, which writes
/// the robust operators as Mithril's MLX backend does): binary arithmetic,
/// functions of one value, the robust operators, `Where` with the
/// comparisons, the reductions `Min`, `Prod`, `LogSumExp`, `Var` and `Std`,
/// and asymmetric padding and unbatched inputs of convolutions and pools.
pub const MATH: Suite = Suite {
    index: "cases_math.json",
    cases: 39,
    fixture_tol: FIXTURE_TOL,
    modes_tol: MODES_TOL,
    dtypes: Dtypes::Kept,
    known_bugs: &[],
    columns: (28, 64),
};

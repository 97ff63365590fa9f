//! Reshapes (`mithril-core/src/layers/reshape.rs`): `Flatten` and `Reshape`.

use crate::harness::{Case, F64, cases, check_fd_only, check_fixture, layer_model, run_tables};
use crate::suites::CORE;

// The fixture cases: the layer calls of cases.json, the fixtures' input shapes.
layer_model!(FlattenCase, x: [B, 3, 4, 5], Flatten);
layer_model!(ReshapeCase, x: [B, 60], Reshape([B, 6, 10]));

// The `reshape` fixture without the symbol in the target (see `suites::KNOWN_BUGS`).
layer_model!(ReshapeLiteralCase, x: [2, 60], Reshape([2, 6, 10]));

// Variants without fixtures, checked against finite differences only.
layer_model!(FlattenMiddleCase, x: [2, 3, 4, 2], Flatten(start = 1, end = 2));
layer_model!(ReshapeWildcardCase, x: [2, 12], Reshape([2, -1, 3]));

/// Fixture cases of `cases.json`.
pub const CORE_FIXTURES: &[Case] = cases! { check_fixture:
    "flatten" => FlattenCase: F64,
    "reshape" => ReshapeCase: F64,
};

/// Variants under the suite of `cases.json`.
const CORE_VARIANTS: &[Case] = cases! { check_fd_only:
    "flatten_middle_axes" => FlattenMiddleCase: F64,
    "reshape_wildcard" => ReshapeWildcardCase: F64,
};

#[test]
fn fixtures_match_python_mlx_and_finite_differences() {
    run_tables(&[("Reshapes, fixture cases", &CORE, CORE_FIXTURES)]);
}

#[test]
fn variants_match_finite_differences() {
    run_tables(&[(
        "Reshapes, variants without fixtures: VJP vs finite differences",
        &CORE,
        CORE_VARIANTS,
    )]);
}

/// The `reshape` fixture passes once the batch is literal (see
/// [`crate::suites::KNOWN_BUGS`]).
#[test]
fn reshape_fixture_with_literal_batch() {
    let errors = check_fixture::<ReshapeLiteralCase>(&CORE, "reshape", F64).unwrap();
    println!(
        "reshape, Reshape([2, 6, 10]): vs MLX {}, compiled/eager {}, VJP vs FD {}",
        errors.fixture.unwrap_or_default(),
        errors.modes.unwrap_or_default(),
        errors.fd.unwrap_or_default()
    );
}

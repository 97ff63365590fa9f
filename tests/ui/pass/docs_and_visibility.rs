//! Doc comments and attributes on models, and visibility across modules.

mod models {
    mithril::model! {
        /// A public model: its struct and generated types are `pub`.
        #[allow(missing_docs)]
        pub Public {
            input x: [B, 4];
            x -> Linear(2) => y;
            output y;
        }

        /// A crate-visible model.
        pub(crate) Internal {
            input x: [B, 4];
            x -> Relu => y;
            output y;
        }
    }
}

use models::{Internal, InternalInputs, Public, PublicOutputs, PublicParams};

fn main() {
    assert_eq!(Public::PARAMETER_COUNT, 4 * 2 + 2);
    assert_eq!(Internal::PARAMETER_COUNT, 0);
    assert!(Internal::summary().starts_with("model Internal"));
    let _: Option<(PublicParams, PublicOutputs, InternalInputs)> = None;
}

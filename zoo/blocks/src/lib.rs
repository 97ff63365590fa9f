//! A small model zoo: blocks written once with `mithril::model!` and used
//! as layers by models in other crates (see `zoo-app`), with the same
//! compile-time shape checks as within one block.
//!
//! ```
//! use mithril::prelude::*;
//! use mithril_zoo::transformer::TransformerBlock;
//!
//! mithril::model! {
//!     Encoder {
//!         input x: [B, T, 32];
//!         x -> layers: TransformerBlock * 2 -> Mean(axes = 1) -> Linear(4) => y;
//!         output y;
//!     }
//! }
//!
//! assert_eq!(Encoder::OUTPUT_SHAPES, &[("y", "[B, 4]")]);
//! # Ok::<(), mithril::Error>(())
//! ```

pub mod blocks;
pub mod config;
pub mod gpt;
pub mod mlp;
pub mod ops;
pub mod resnet;
pub mod transformer;
pub mod unet;
pub mod vit;

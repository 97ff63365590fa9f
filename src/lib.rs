//! placeholder
pub use mithril_mlx;

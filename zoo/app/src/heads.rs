//! This crate's own blocks, used from `main.rs` (another module).

mithril::model! {
    /// Pools a sequence and classifies it.
    pub(crate) ClassifierHead {
        input x: [B, T, 32];
        x -> Mean(axes = 1) -> Linear(16) -> Relu -> logits: Linear(10) => y;
        output y;
    }
}

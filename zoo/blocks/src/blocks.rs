//! Feed-forward blocks.

mithril::model! {
    /// A two-layer perceptron over the last axis, 32 -> 64 -> 32, with the
    /// zoo's own activation (a custom op) between.
    pub Mlp {
        input x: [B, T, 32];
        x -> up: Linear(64) -> Lambda(crate::ops::swish) -> down: Linear(32) => y;
        output y;
    }

    /// A gate for `Mlp`'s input: visible in this crate only.
    pub(crate) Gate {
        input x: [B, T, 32];
        x -> Linear(32) -> Sigmoid => g;
        output g;
    }

    /// `Mlp` with a residual connection and a gate, for any width 32 input.
    pub GatedMlp {
        input x: [B, T, 32];
        x -> Gate => g;
        Multiply(x, g) -> Mlp => h;
        Add(x, h) => y;
        output y;
    }
}

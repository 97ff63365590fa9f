//! Numbers as operands (at the head of a flow and after a pipeline stage's
//! previous value), a `buffer` (a parameter field that is an array, under
//! its own path) and a `static` input (a spec input that is not
//! differentiable). A model that fails still has its buffer's field.

mithril::model! {
    /// An RBF network with fixed centres.
    pub RbfNetwork {
        input x: [N, 2];
        static gamma: [1];
        buffer centers: [4, 2], scale: [1] = 0.5;
        x -> Unsqueeze(1) => xa;
        centers -> Unsqueeze(0) => cb;
        Subtract(xa, cb) -> Square -> Sum(axes = 2) -> Multiply(-1) => d2;
        Multiply(d2, gamma) -> Exp => phi;
        Multiply(phi, scale) -> head: Linear(1) => y;
        output y;
    }

    /// Fails (a buffer of the wrong width), yet expands with its fields.
    pub Broken {
        input x: [B, 3];
        buffer offset: [4];
        Subtract(x, offset) -> Multiply(2) => y;
        output y;
    }
}

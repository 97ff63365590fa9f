//! The guide's classifier: layers with and without parameters, two outputs.

mithril::model! {
    /// The classifier of Mithril's MLX backend guide.
    pub Classifier {
        input image: [B, 784];
        image -> fc1: Linear(128) -> Relu -> Linear(10) => logits;
        logits -> Softmax => probs;
        output logits, probs;
    }
}

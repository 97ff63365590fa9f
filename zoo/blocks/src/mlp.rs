//! Mithril's `MLP(activations, dimensions)` in `model!`: one `Linear`
//! layer per entry of `dimensions`, each followed by the activation at the
//! same index of `activations` (a loop over the lists, unrolled when the
//! family is instantiated).
//!
//! [`Mlp`] is the family; the two lists must have the same length (an
//! index beyond `activations` is an error at the instance). There is no
//! identity layer to leave a layer linear, so a classifier ends with
//! `LogSoftmax` (train it with cross-entropy from log-probabilities).
//! Instances: [`MnistMlp`] (the guide's 784-128-64-10 classifier) and
//! [`MlpTiny`] (4 features, 3 classes: CPU tests). Parameter paths are
//! `layers.0.weight`, `layers.0.bias`, `layers.1.weight`, ...
//!
//! ```
//! use mithril_zoo::mlp::MnistMlp;
//! assert_eq!(MnistMlp::PARAMETER_COUNT, 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10);
//! assert_eq!(MnistMlp::OUTPUT_SHAPES, &[("y", "[B, 10]")]);
//! ```

mithril::model! {
    /// Mithril's `MLP`: `features` in, then for each `i` a
    /// `Linear(dimensions[i])` and `activations[i]`.
    pub Mlp(dimensions: [usize], activations: [Layer], features: usize) {
        input x: [B, features];
        x -> for i in 0..len(dimensions) { layers: Linear(dimensions[i]) -> activations[i] } => y;
        output y;
    }

    /// The guide's MNIST classifier: 784 pixels, 128 and 64 ReLU units,
    /// log-probabilities of 10 digits (109,386 parameters).
    pub MnistMlp = Mlp(features = 784, dimensions = [128, 64, 10], activations = [Relu, Relu, LogSoftmax]);
    /// 4 features, two tanh layers of 32, log-probabilities of 3 classes.
    pub MlpTiny = Mlp(features = 4, dimensions = [32, 32, 3], activations = [Tanh, Tanh, LogSoftmax]);
}

//! The guide's convolutional network, for the examples that use it beyond
//! the main one (`mnist.rs` shows it where it is trained). Declare it with
//! `#[path = "common/convnet.rs"] mod convnet;` (from a directory example,
//! `"../common/convnet.rs"`).

mithril::model! {
    /// The guide's image model, NHWC: [B, 28, 28, 1] digits in, ten logits out.
    pub ConvNet {
        input image: [B, 28, 28, 1];
        image -> conv1: Conv2d(filters = 16, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> conv2: Conv2d(filters = 32, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> Flatten -> fc1: Linear(64) -> Relu -> fc2: Linear(10) => logits;
        output logits;
    }
}

/// One digit's shape, after the batch dimension.
pub const IMAGE: &[i32] = &[28, 28, 1];

// Several independent mistakes, all reported by one build: an argument name,
// a layer name, a shape, an unused input, and an argument type in a second
// model. Values downstream of a failed layer are not reported again.
mithril::model! {
    Classifier {
        input image: [B, 28, 28, 1], label: [B, 10], weights: [B];
        image -> Conv2d(16, kernal = 3) -> Relu => features;
        features -> Flaten -> Linear(10) => logits;
        label -> Softmax(axis = 3) => target;
        output logits, target;
    }

    Head {
        input x: [B, 64];
        x -> Linear(1.5) => y;
        output y;
    }
}

fn main() {}

//! User layer names: fields of the params struct, per-layer params types, and
//! parameter paths; unnamed layers are numbered per kind.

use mithril::Model;

mithril::model! {
    Classifier {
        input x: [B, 784];
        x -> fc1: Linear(128) -> Relu -> Linear(64) -> Relu -> head: Linear(10) => logits;
        output logits;
    }
}

fn shapes(p: &ClassifierParams) -> [&[i32]; 3] {
    let fc1: &ClassifierFc1Params = &p.fc1;
    let hidden: &ClassifierLinear0Params = &p.linear_0;
    let head: &ClassifierHeadParams = &p.head;
    [fc1.weight.shape(), hidden.bias.shape(), head.weight.shape()]
}

fn main() {
    let paths: Vec<&str> = Classifier::graph()
        .weights
        .iter()
        .map(|w| w.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "fc1.weight",
            "fc1.bias",
            "linear_0.weight",
            "linear_0.bias",
            "head.weight",
            "head.bias"
        ]
    );
    let summary = Classifier::summary();
    assert!(summary.contains("relu_1"), "{summary}");
    let _ = shapes as fn(&ClassifierParams) -> [&[i32]; 3];
}

//! A model used as a layer of another model in the same block.

use mithril::Model;

mithril::model! {
    Block {
        input x: [B, 16];
        x -> fc1: Linear(32) -> Relu -> fc2: Linear(16) => y;
        output y;
    }

    Net {
        input x: [B, 16];
        x -> Relu -> Block -> block: Block => features;
        features -> Linear(4) => logits;
        output logits;
    }
}

fn main() {
    // An unnamed nested model is named after its kind (`block_0`); its
    // parameters are prefixed with the layer name.
    let paths: Vec<&str> = Net::graph()
        .weights
        .iter()
        .map(|w| w.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "block_0.fc1.weight",
            "block_0.fc1.bias",
            "block_0.fc2.weight",
            "block_0.fc2.bias",
            "block.fc1.weight",
            "block.fc1.bias",
            "block.fc2.weight",
            "block.fc2.bias",
            "linear_0.weight",
            "linear_0.bias",
        ]
    );
    assert_eq!(Net::OUTPUT_SHAPES, &[("logits", "[B, 4]")]);
    let _: fn(&NetParams) -> &BlockParams = |p| &p.block;
}

//! Repeats: `Layer * N` and `Model * N` apply shape-preserving layers in sequence.

use mithril::Model;

mithril::model! {
    Residual {
        input x: [B, 8];
        x -> fc: Linear(8) -> Relu => h;
        Add(x, h) => y;
        output y;
    }

    Deep {
        input x: [B, 8];
        x -> blocks: Residual * 3 -> mix: Linear(8) * 2 => y;
        output y;
    }
}

fn main() {
    let graph = Deep::graph();
    let paths: Vec<&str> = graph.weights.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "blocks.0.fc.weight",
            "blocks.0.fc.bias",
            "blocks.1.fc.weight",
            "blocks.1.fc.bias",
            "blocks.2.fc.weight",
            "blocks.2.fc.bias",
            "mix.0.weight",
            "mix.0.bias",
            "mix.1.weight",
            "mix.1.bias",
        ]
    );
    assert_eq!(Deep::PARAMETER_COUNT, 5 * (8 * 8 + 8));
    let _: fn(&DeepParams) -> &Vec<ResidualParams> = |p| &p.blocks;
    let summary = Deep::summary();
    assert!(summary.contains("Residual * 3"), "{summary}");
}

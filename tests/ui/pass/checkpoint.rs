//! `checkpoint`: a nested model, a repeat, a layer, a loop's stage and a
//! flow's head recomputed in the backward pass; `checkpoint` alone is still
//! a name like any other.

use mithril::Model;

mithril::model! {
    Residual {
        input x: [B, 8];
        x -> fc: Linear(8) -> Relu => h;
        Add(x, h) => y;
        output y;
    }

    Deep(widths: [usize] = [8, 8]) {
        input x: [B, 8];
        x -> checkpoint Residual -> checkpoint blocks: Residual * 3
            -> for i in 0..len(widths) { checkpoint Linear(widths[i]) -> Gelu } => h;
        checkpoint Add(x, h) -> checkpoint: Linear(8) => checkpoint;
        checkpoint -> checkpoint head: Linear(2) => y;
        output y;
    }
}

fn main() {
    let graph = Deep::graph();
    let marked: Vec<&str> = graph
        .nodes
        .iter()
        .filter(|n| n.checkpoint)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(
        marked,
        ["residual_0", "blocks", "linear_0.0", "linear_0.1", "add_0", "head"]
    );
    let summary = Deep::summary();
    assert!(summary.contains("checkpoint Residual * 3"), "{summary}");
}

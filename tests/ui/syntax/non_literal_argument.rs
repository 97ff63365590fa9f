// Layer arguments are literals, words, tuples or shapes, not Rust expressions.
const HIDDEN: i64 = 64;

mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(HIDDEN * 2) => logits;
        output logits;
    }
}

fn main() {}

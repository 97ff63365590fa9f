// An input declaration needs `: [dims]`.
mithril::model! {
    Mlp {
        input x;
        x -> Linear(10) => logits;
        output logits;
    }
}

fn main() {}

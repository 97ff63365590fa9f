// Linear's units is a positive integer.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(1.5) => y;
        output y;
    }
}

fn main() {}

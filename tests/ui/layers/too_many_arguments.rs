// More positional arguments than the layer has parameters.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(128, false, 3) -> Relu(0.1) => y;
        output y;
    }
}

fn main() {}

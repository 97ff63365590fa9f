// A value that nothing consumes.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(128) -> Relu => hidden;
        hidden -> Linear(10) => logits;
        hidden -> Linear(5) => aux;
        output logits;
    }
}

fn main() {}

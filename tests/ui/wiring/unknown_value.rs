// A misspelt value name: the closest defined name is suggested.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(128) -> Relu => hidden;
        hiden -> Linear(10) => logits;
        output logits;
    }
}

fn main() {}

// A misspelt argument name: the closest one is suggested.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(128, bais = false) => y;
        output y;
    }
}

fn main() {}

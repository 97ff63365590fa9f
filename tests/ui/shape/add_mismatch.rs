mithril::model! {
    Residual {
        input x: [B, 64];
        x -> Linear(128) => h;
        Add(x, h) => y;
        output y;
    }
}

fn main() {}

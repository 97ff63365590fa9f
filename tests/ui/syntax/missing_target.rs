// A flow must name its result with `=> name`.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(10);
        output x;
    }
}

fn main() {}

// `units` is given by position and again by name.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(128, units = 64) => y;
        output y;
    }
}

fn main() {}

// `x => y` renames a value without applying any layer.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x => y;
        output y;
    }
}

fn main() {}

// The same value name is defined twice.
mithril::model! {
    Mlp {
        input x: [B, 784];
        x -> Linear(128) => h;
        h -> Relu => h;
        output h;
    }
}

fn main() {}

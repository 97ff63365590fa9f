// A single-input layer at the head of a flow has no input.
mithril::model! {
    Mlp {
        input x: [B, 784];
        Linear(128) => h;
        output h;
    }
}

fn main() {}

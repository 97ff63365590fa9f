// A model used as a layer of itself.
mithril::model! {
    Block {
        input x: [B, 64];
        x -> Linear(64) -> Block => y;
        output y;
    }
}

fn main() {}

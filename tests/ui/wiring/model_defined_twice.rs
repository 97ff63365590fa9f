// Two models with the same name in one block.
mithril::model! {
    Head {
        input x: [B, 8];
        x -> Linear(2) => y;
        output y;
    }

    Head {
        input x: [B, 8];
        x -> Linear(3) => y;
        output y;
    }
}

fn main() {}

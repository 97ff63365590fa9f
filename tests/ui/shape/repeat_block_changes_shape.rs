// A repeated nested model must keep the shape it is fed.
mithril::model! {
    Down {
        input x: [B, 64];
        x -> Linear(32) => y;
        output y;
    }

    Net {
        input x: [B, 64];
        x -> Down * 2 -> Linear(10) => y;
        output y;
    }
}

fn main() {}

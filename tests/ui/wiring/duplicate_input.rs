// An input declared twice.
mithril::model! {
    Pair {
        input x: [B, 8];
        input x: [B, 8];
        x -> Relu => y;
        output y;
    }
}

fn main() {}

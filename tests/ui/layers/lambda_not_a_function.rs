// Lambda's first argument is a function path, not a number.
mithril::model! {
    Net {
        input x: [B, 8];
        x -> Lambda(3) => y;
        output y;
    }
}

fn main() {}

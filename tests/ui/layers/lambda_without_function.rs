// Lambda needs the function it applies.
mithril::model! {
    Net {
        input x: [B, 8];
        x -> Lambda(shape = same) => y;
        output y;
    }
}

fn main() {}

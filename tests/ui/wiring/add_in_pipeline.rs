// A pipeline stage gets one input; Add needs two.
mithril::model! {
    Net {
        input x: [B, 8];
        x -> Relu -> Add => y;
        output y;
    }
}

fn main() {}

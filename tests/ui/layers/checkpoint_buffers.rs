// A layer that updates buffers in training (BatchNorm's running statistics)
// cannot be recomputed in the backward pass, nor a model that has one.
mithril::model! {
    Normed {
        input x: [B, 4];
        x -> Linear(4) -> BatchNorm => y;
        output y;
    }

    Net {
        input x: [B, 4];
        x -> checkpoint bn: BatchNorm => a;
        a -> checkpoint blocks: Normed * 2 => b;
        b -> checkpoint Linear(4) => y;
        output y;
    }
}

fn main() {}

// A pool reads an input one axis short of batched as unbatched, pooling its
// first axis: a symbol there is most likely the batch, so it is refused
// with what to write. A literal first axis is a real unbatched input.
mithril::model! {
    Net {
        input x: [B, T], image: [B, 28, 28], seq: [16, 4];
        x -> MaxPool1d(2) => a;
        x -> AvgPool1d(2) => b;
        image -> MaxPool2d(2) => c;
        seq -> MaxPool1d(2) => d;
        output a, b, c, d;
    }
}

fn main() {}

// A pool reads an input one axis short of batched as unbatched, pooling its
// first axis: a first axis named as a batch (`B`, `N`, `batch..`) says the
// input is a batch without channels, so it is refused with what to write.
// Other first axes (`L`, `16`) are unbatched inputs.
mithril::model! {
    Net {
        input x: [B, T], image: [N, 28, 28], seq: [L, 4], fixed: [16, 4];
        x -> MaxPool1d(2) => a;
        x -> AvgPool1d(2) => b;
        image -> MaxPool2d(2) => c;
        seq -> MaxPool1d(2) => d;
        fixed -> AvgPool1d(2) => e;
        output a, b, c, d, e;
    }
}

fn main() {}

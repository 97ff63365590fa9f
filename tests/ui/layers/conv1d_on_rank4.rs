// `Conv1d` and the 1-D pools take [N, L, C] sequences.
mithril::model! {
    Net {
        input image: [B, 28, 28, 1];
        image -> Conv1d(8, 3) => a;
        image -> MaxPool1d(2) => b;
        output a, b;
    }
}

fn main() {}

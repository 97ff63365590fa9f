// A 1-D layer pads with one pair, `(before, after)`, not a pair per axis;
// `padding = same` needs stride 1; a pool pads each side by at most half
// its window.
mithril::model! {
    Net {
        input x: [B, 16, 3], image: [B, 8, 8, 2];
        x -> Conv1d(8, 3, padding = ((1, 2), (0, 0))) -> Conv1d(8, 3, stride = 2, padding = same) => y;
        image -> MaxPool2d(2, padding = ((2, 0), 0)) => z;
        output y, z;
    }
}

fn main() {}

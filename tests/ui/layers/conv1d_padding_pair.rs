// `Conv1d` pads its one spatial axis by one amount, not a pair; and
// `padding = same` needs stride 1.
mithril::model! {
    Net {
        input x: [B, 16, 3];
        x -> Conv1d(8, 3, padding = (1, 2)) -> Conv1d(8, 3, stride = 2, padding = same) => y;
        output y;
    }
}

fn main() {}

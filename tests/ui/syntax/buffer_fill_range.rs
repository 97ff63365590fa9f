// A buffer is stored as a 32-bit float: its initial value must fit one.
mithril::model! {
    Net {
        input x: [B, 2];
        buffer big: [2] = 1e39, huge: [2] = -1e999, fits: [2] = 3e38;
        Add(x, big) -> Add(huge) -> Add(fits) => y;
        output y;
    }
}

fn main() {}

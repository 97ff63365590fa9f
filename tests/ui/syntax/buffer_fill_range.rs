// A buffer is stored as a 32-bit float: its initial value must fit one,
// and one that does not is reported at the number.
mithril::model! {
    Net {
        input x: [B, 2];
        buffer big: [2] = 1e39;
        buffer huge: [2] = -1e999;
        buffer fits: [2] = 3e38;
        Add(x, big) => a;
        Add(a, huge) => b;
        Add(b, fits) => y;
        output y;
    }
}

fn main() {}

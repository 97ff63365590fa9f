// A buffer's initial value is a number; `static` and `buffer` declare names.
mithril::model! {
    Net {
        input x: [B, 2];
        buffer scale: [1] = big;
        static;
        x -> Relu => y;
        output y;
    }
}

fn main() {}

// A dimension that comes out negative for the family's defaults.
mithril::model! {
    Narrow(d: usize = 8) {
        input x: [B, d - 16];
        x -> Relu => y;
        output y;
    }
}

fn main() {}

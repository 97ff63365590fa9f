// An unknown parameter type, and a default of the wrong type.
mithril::model! {
    Block(d: u32, eps: f64 = true) {
        input x: [B, 8];
        x -> Linear(8) => y;
        output y;
    }
}

fn main() {}

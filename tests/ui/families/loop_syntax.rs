// A loop over something that is no half-open range, and a layer repeated
// inside a loop.
mithril::model! {
    A(n: usize = 2) {
        input x: [B, 8];
        x -> for i in 0..=n { Linear(8) } => y;
        output y;
    }

    C(n: usize = 2) {
        input x: [B, 8];
        x -> for i in 0..n { Linear(8) * 2 } => y;
        output y;
    }
}

fn main() {}

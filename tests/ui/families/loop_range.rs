// A loop that runs zero times, and one over a range that is no range.
mithril::model! {
    Mlp(dims: [usize]) {
        input x: [B, 8];
        x -> for i in 0..len(dims) { layers: Linear(dims[i]) -> Relu } => y;
        output y;
    }

    Empty = Mlp(dims = []);
}

fn main() {}

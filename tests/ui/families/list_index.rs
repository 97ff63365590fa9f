// A list shorter than a loop reads, named at the layer that reads it.
mithril::model! {
    Mlp(dims: [usize], acts: [Layer]) {
        input x: [B, 8];
        x -> for i in 0..len(dims) { layers: Linear(dims[i]) -> acts[i] } => y;
        output y;
    }

    Short = Mlp(dims = [16, 8, 4], acts = [Relu, Tanh]);
}

fn main() {}

// A list where a single value goes, a value where a list goes, and a list
// of the wrong item type.
mithril::model! {
    Mlp(dims: [usize], width: usize = 8) {
        input x: [B, width];
        x -> for i in 0..len(dims) { Linear(dims[i]) } => y;
        output y;
    }

    A = Mlp(dims = 16);
    B = Mlp(dims = [16], width = [8]);
    C = Mlp(dims = [16, 1.5]);
}

fn main() {}

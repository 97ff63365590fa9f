// A pipeline stage takes the previous value; it cannot also name inputs.
mithril::model! {
    Mlp {
        input x: [B, 10], y: [B, 10];
        x -> Relu -> Concat(axis = -1)(y) => z;
        output z;
    }
}

fn main() {}

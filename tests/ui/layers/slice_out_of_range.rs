// A slice must lie within the axis: 2..12 of an axis of 10, and a symbolic
// axis sliced from the end at one side and the start at the other.
mithril::model! {
    Net {
        input x: [B, 10];
        input s: [B, T];
        x -> Slice(1, 2, 12) => a;
        s -> Slice(axis = 1, start = -3, end = 5) => b;
        output a, b;
    }
}

fn main() {}

// Linear's weight shape needs the input feature size at compile time.
mithril::model! {
    Net {
        input x: [B, D];
        x -> Linear(10) => y;
        output y;
    }
}

fn main() {}

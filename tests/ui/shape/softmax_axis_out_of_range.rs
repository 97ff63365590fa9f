// Softmax over an axis the value does not have.
mithril::model! {
    Net {
        input x: [B, 10];
        x -> Softmax(axis = 2) => p;
        output p;
    }
}

fn main() {}

// The -1 of a Reshape is the size that makes the elements fit; when the
// other sizes do not divide the count, the error says which.
mithril::model! {
    Net {
        input x: [784];
        x -> Reshape([3, 5, -1]) => y;
        output y;
    }
}

fn main() {}

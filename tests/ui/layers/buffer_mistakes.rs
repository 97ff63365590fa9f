// A buffer is stored with the parameters, so its sizes are numbers; it is
// a value of the model, named once; a `static` input must be used like any.
mithril::model! {
    Net {
        input x: [B, 2];
        static mask: [B, 2];
        buffer centers: [K, 2], x: [2];
        Add(x, centers) => y;
        output y;
    }
}

fn main() {}

// Numbers too large for what they size: each error names the dimension, the
// repeat or the argument, and its range.
mithril::model! {
    Declared {
        input x: [B, 99999999999999999999];
        x -> Relu * 100000 => y;
        output y;
    }
}

// Argument values are checked with the shapes, in a block that parses.
mithril::model! {
    Arguments {
        input y: [B, 4];
        y -> Linear(99999999999999999999) => b;
        y -> LeakyRelu(1e999) => d;
        y -> Linear(3000000000) => e;
        output b, d, e;
    }
}

fn main() {}

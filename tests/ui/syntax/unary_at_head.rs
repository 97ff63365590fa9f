// A function of one value is a pipeline stage, not a statement's head.
mithril::model! {
    Net {
        input x: [B, 4];
        Exp(x) => a;
        StopGradient(x) => b;
        Clip(x) => c;
        output a, b, c;
    }
}

fn main() {}

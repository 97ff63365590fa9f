// `a` depends on `b`, which depends on `a`.
mithril::model! {
    Loop {
        input x: [B, 8];
        Add(x, b) => a;
        a -> Relu => b;
        output a;
    }
}

fn main() {}

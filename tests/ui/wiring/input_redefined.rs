// `=> x` would redefine the model input `x`.
mithril::model! {
    Mlp {
        input x: [B, 10];
        x -> Relu => x;
        output x;
    }
}

fn main() {}

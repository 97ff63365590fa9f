// A model cannot take a built-in layer's name (the layer would win), nor a
// prelude derive's (its signature macro would hide the derive).
mithril::model! {
    Linear {
        input x: [B, 4];
        x -> Relu => y;
        output y;
    }

    Debug {
        input x: [B, 4];
        x -> Relu => y;
        output y;
    }
}

fn main() {}

//! A model with one shape error: its items carry every field and trait
//! impl (with placeholder consts), and the error is the only one.

mithril::model! {
    pub Net {
        input x: [B, 8], y: [B, 4];
        x -> Linear(16) -> Relu => h;
        Add(h, y) => z;
        z -> head: Linear(2) => out;
        output out;
    }
}

// `Cast` converts to f32, f16 or bf16 only.
mithril::model! {
    Net {
        input x: [B, 4];
        x -> Cast(f64) => y;
        output y;
    }
}

fn main() {}

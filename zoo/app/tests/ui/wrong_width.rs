// The zoo's `Mlp` takes width 32; fed width 16, the error is at this
// crate's tokens, and code using `Net` reports nothing more.
mithril::model! {
    Net {
        input x: [B, T, 16];
        x -> mlp: mithril_zoo::blocks::Mlp -> Linear(4) => y;
        output y;
    }
}

fn main() {
    let backend = mithril::MlxBackend::new().unwrap();
    let params = Net::init(&backend).unwrap();
    let _: &mithril_zoo::blocks::MlpParams = &params.mlp;
    let _ = &params.mlp.up.weight;
    let _ = mithril::compile::<Net>(&backend);
}

// A model of another module fed the wrong width: the error is at this
// block's tokens, and code using `Net` reports nothing more.
mod blocks {
    mithril::model! {
        pub(crate) Block {
            input x: [B, T, 32];
            x -> fc: Linear(32) => y;
            output y;
        }
    }
}

mithril::model! {
    Net {
        input x: [B, T, 16];
        x -> blocks::Block -> head: Linear(4) => y;
        output y;
    }
}

fn main() {
    let backend = mithril::MlxBackend::new().unwrap();
    let params = Net::init(&backend).unwrap();
    let _: &blocks::BlockParams = &params.block_0;
    let _ = params.head.weight;
    let _ = mithril::compile::<Net>(&backend);
}

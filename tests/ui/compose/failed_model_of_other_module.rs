// A model that fails its own check is reported once, where it is defined;
// models of other modules that use it, and code that uses those, report
// nothing more.
mod blocks {
    mithril::model! {
        pub(crate) Block {
            input x: [B, 8];
            x -> Linear(8) -> Softmax(axis = 2) => y;
            output y;
        }
    }
}

mithril::model! {
    Net {
        input x: [B, 8];
        x -> blocks::Block -> head: Linear(2) => y;
        output y;
    }
}

fn main() {
    let backend = mithril::MlxBackend::new().unwrap();
    let params = Net::init(&backend).unwrap();
    let _: &blocks::BlockParams = &params.block_0;
    let _ = &params.head.weight;
}

//! A model of the block nested and repeated (the repeat recomputed in the
//! backward pass), a custom op by path, a private model.

mithril::model! {
    Block {
        input x: [B, 16];
        x -> fc: Linear(16) -> Lambda(ops::swish) => y;
        output y;
    }

    pub(crate) Net {
        input x: [B, 16];
        x -> Block -> checkpoint blocks: Block * 2 => features;
        features -> head: Linear(4, bias = false) => logits;
        output logits;
    }
}

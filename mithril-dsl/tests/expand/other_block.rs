//! A block that uses models of other blocks: the first step asks their
//! signature macros (in a chain ending in `::mithril::model!`), and the
//! block's models have fallback items meanwhile.

mithril::model! {
    pub Net {
        input x: [B, 16];
        x -> zoo::blocks::Mlp -> Encoder * 2 -> Linear(4) => y;
        output y;
    }
}

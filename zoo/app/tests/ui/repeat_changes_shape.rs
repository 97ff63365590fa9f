// Symbols bind per use: `TransformerBlock` keeps [B, T, 32], so it repeats;
// `heads::Widen` maps width 32 to 64, so it cannot.
mod heads {
    mithril::model! {
        pub(crate) Widen {
            input x: [B, T, 32];
            x -> Linear(64) => y;
            output y;
        }
    }
}

use mithril_zoo::transformer::TransformerBlock;

mithril::model! {
    Net {
        input x: [B, S, 32];
        x -> TransformerBlock * 2 -> heads::Widen * 2 => y;
        output y;
    }
}

fn main() {}

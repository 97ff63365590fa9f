// Gru's weights are sized by the feature axis, so it must be a literal.
mithril::model! {
    Net {
        input x: [B, T, F];
        x -> Gru(8) => y;
        output y;
    }
}

fn main() {}

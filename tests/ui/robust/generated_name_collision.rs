// `linear0` would give the same parameter struct as the unnamed `Linear`
// (`linear_0`): the user's name is rejected, with a free one suggested.
mithril::model! {
    Net {
        input x: [B, 4];
        x -> Linear(8) -> linear0: Linear(2) => y;
        output y;
    }
}

fn main() {
    let _ = Net::PARAMETER_COUNT;
}

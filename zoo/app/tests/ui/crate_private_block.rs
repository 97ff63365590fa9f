// `Gate` is `pub(crate)` in the zoo: other crates cannot use it.
mithril::model! {
    Net {
        input x: [B, T, 32];
        x -> mithril_zoo::blocks::Gate => y;
        output y;
    }
}

fn main() {
    let _ = Net::PARAMETER_COUNT;
}

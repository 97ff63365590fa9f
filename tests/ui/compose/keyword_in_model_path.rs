// `Self`, or `crate` and `self` after the first segment, cannot start or
// sit inside a model's path: one error at each path, and no callback to a
// signature macro that Rust would reject again.
mithril::model! {
    Net {
        input x: [B, 4];
        x -> Self::Hidden -> zoo::crate::Block -> Linear(4) => y;
        output y;
    }
}

fn main() {
    let _ = Net::PARAMETER_COUNT;
}

// A statement that nests past the bound (here 70 parentheses) is one
// error where it does, before syn parses it (syn recurses once per level
// and would overflow rustc's stack long before the thousands of levels an
// input can have); the block's other statements are still parsed, and
// their syntax mistakes reported.
mithril::model! {
    Net {
        input x: [B, 4];
        x -> Linear(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((4))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))) => h;
        h -> Linear(4) => => y;
        output y;
    }
}

fn main() {
    let _ = Net::PARAMETER_COUNT;
}

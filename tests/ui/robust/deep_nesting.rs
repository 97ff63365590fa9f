// A statement that nests past the bound (here 70 parentheses) is one
// error where it does, before syn parses it (syn recurses once per level
// and would overflow rustc's stack long before the thousands of levels an
// input can have); the block's other mistakes are still reported.
mithril::model! {
    Net {
        input x: [B, 4];
        x -> Linear(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((4))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))) => h;
        h -> Linear(4, bias = maybe) => y;
        output y;
    }
}

fn main() {
    let _ = Net::PARAMETER_COUNT;
}

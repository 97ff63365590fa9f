// `checkpoint` goes before a layer (and its name); a misspelling of it is
// named as one.
mithril::model! {
    Net {
        input x: [B, 4];
        x -> chekpoint Linear(4) => a;
        a -> fc: checkpoint Linear(4) => b;
        b -> checkpoint fc2: Linear(4) => y;
        output y;
    }
}

fn main() {}

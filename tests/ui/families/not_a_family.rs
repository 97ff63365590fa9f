// An instance of a model without parameters, and of a name that is none.
mithril::model! {
    Plain {
        input x: [B, 8];
        x -> Linear(8) => y;
        output y;
    }

    Net = Plain(d = 8);
}

fn main() {}

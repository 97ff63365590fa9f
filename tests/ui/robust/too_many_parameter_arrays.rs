// Repeats multiply through nested models: `Middle * 4096` of a model
// with 4096 x 2 arrays would be 2^25 parameter arrays. The arrays are
// counted before they are listed, so this is an error at the repeat, not
// a listing that exhausts memory.
mithril::model! {
    Inner {
        input x: [B, 4];
        x -> Linear(4) * 4096 => y;
        output y;
    }

    Outer {
        input x: [B, 4];
        x -> Inner * 4096 => y;
        output y;
    }
}

fn main() {
    let _ = Outer::PARAMETER_COUNT;
    let _ = Inner::PARAMETER_COUNT;
}

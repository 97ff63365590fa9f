// An output bound to the name of an input.
mithril::model! {
    Cell {
        input x: [B, 4];
        x -> a: Linear(4) => hidden;
        x -> b: Linear(4) => cell;
        output hidden, cell;
    }

    Other {
        input x: [B, 4];
        x -> Cell => { hidden: x, cell };
        output cell;
    }
}

fn main() {}

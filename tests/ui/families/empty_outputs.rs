// Outputs bound in empty braces.
mithril::model! {
    Cell {
        input x: [B, 4];
        x -> a: Linear(4) => hidden;
        x -> b: Linear(4) => cell;
        output hidden, cell;
    }

    Net {
        input x: [B, 4];
        x -> Cell => {};
        output x;
    }
}

fn main() {}

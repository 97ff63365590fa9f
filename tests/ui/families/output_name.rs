// A misspelt output of a model with several outputs.
mithril::model! {
    Cell {
        input x: [B, 4];
        x -> a: Linear(4) => hidden;
        x -> b: Linear(4) => cell;
        output hidden, cell;
    }

    Net {
        input x: [B, 4];
        x -> Cell => { hiden: h, cell };
        Add(h, cell) => y;
        output y;
    }
}

fn main() {}

// A model with two outputs in the middle of a pipeline, and outputs bound
// on a layer that has one.
mithril::model! {
    Cell {
        input x: [B, 4];
        x -> a: Linear(4) => hidden;
        x -> b: Linear(4) => cell;
        output hidden, cell;
    }

    Net {
        input x: [B, 4];
        x -> Cell -> Linear(4) => y;
        x -> Linear(4) => { out: z };
        Add(y, z) => w;
        output w;
    }
}

fn main() {}

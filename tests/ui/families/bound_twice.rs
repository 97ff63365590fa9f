// One output bound twice, and a bound value nobody reads.
mithril::model! {
    Cell {
        input x: [B, 4];
        x -> a: Linear(4) => hidden;
        x -> b: Linear(4) => cell;
        output hidden, cell;
    }

    Net {
        input x: [B, 4];
        x -> Cell => { hidden: h, hidden: g, cell };
        h -> Relu => y;
        output y;
    }
}

fn main() {}

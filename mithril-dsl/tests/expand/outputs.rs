//! A model with several outputs bound by name (one left unbound), a loop
//! over a list and a constant of the block.

mithril::model! {
    pub const WIDTH: usize = 8;

    Cell {
        input x: [B, WIDTH], h: [B, WIDTH];
        Add(x, h) -> gate: Linear(WIDTH) -> Sigmoid => hidden;
        hidden -> Tanh => cell;
        output hidden, cell;
    }

    pub Stack(dims: [usize] = [16, 8]) {
        input x: [B, WIDTH], h: [B, WIDTH];
        Cell(x, h) => { hidden: next, cell };
        Add(next, cell) -> for i in 0..len(dims) { layers: Linear(dims[i]) -> Relu } => y;
        output y;
    }
}

// A size parameter used as a layer, and a list of layers used without an
// index.
mithril::model! {
    Block(d: usize, acts: [Layer] = [Relu], act: Layer = Relu) {
        input x: [B, 8];
        x -> d -> acts -> act => y;
        output y;
    }
}

fn main() {}

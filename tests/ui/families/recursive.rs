// A family that instantiates itself.
mithril::model! {
    Tower(n: usize) {
        input x: [B, 8];
        x -> Linear(8) -> Tower(n - 1) => y;
        output y;
    }

    Net = Tower(n = 3);
}

fn main() {}

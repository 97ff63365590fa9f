// Two families that instantiate each other.
mithril::model! {
    Even(n: usize) {
        input x: [B, 8];
        x -> Odd(n - 1) => y;
        output y;
    }

    Odd(n: usize) {
        input x: [B, 8];
        x -> Even(n - 1) => y;
        output y;
    }

    Net = Even(n = 4);
}

fn main() {}

// Concat needs equal sizes on every axis but the one it joins along.
mithril::model! {
    Join {
        input a: [B, 7, 3], b: [B, 5, 4];
        Concat(axis = -1)(a, b) => c;
        output c;
    }
}

fn main() {}

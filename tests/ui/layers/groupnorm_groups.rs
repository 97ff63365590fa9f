// `GroupNorm` splits the features into equal groups: 30 features do not split into 4.
mithril::model! {
    Net {
        input x: [B, 10, 30];
        x -> norm: GroupNorm(4) => y;
        output y;
    }
}

fn main() {}

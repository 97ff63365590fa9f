// A model's statements go in braces after its name.
mithril::model! {
    pub Mlp;
}

fn main() {}

// A private model is for its own module (and its children): another module
// cannot use it as a layer.
mod blocks {
    mithril::model! {
        Hidden {
            input x: [B, 8];
            x -> Linear(8) => y;
            output y;
        }
    }

    pub mod inner {
        // A child module may use its parent's private model.
        mithril::model! {
            pub(crate) Child {
                input x: [B, 8];
                x -> super::Hidden => y;
                output y;
            }
        }
    }
}

mithril::model! {
    Net {
        input x: [B, 8];
        x -> blocks::Hidden => y;
        output y;
    }
}

fn main() {
    let _ = Net::PARAMETER_COUNT;
    let _ = blocks::inner::Child::PARAMETER_COUNT;
}

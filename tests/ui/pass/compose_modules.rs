//! Models of other blocks as layers: of the same module, of other modules
//! (by path, imported, from a child module), repeated; their symbols bind
//! per use.

use mithril::prelude::*;

mod blocks {
    mithril::model! {
        /// Any batch and width; `W` binds to each caller's width.
        pub(crate) Scale {
            input x: [N, W];
            x -> Tanh => y;
            output y;
        }

        /// Keeps its input's shape, so it repeats.
        pub Residual {
            input x: [B, 8];
            x -> fc: Linear(8) -> Relu => h;
            Add(x, h) => y;
            output y;
        }
    }

    pub mod deeper {
        mithril::model! {
            /// Uses its parent module's models.
            pub(crate) Stack {
                input x: [B, 8];
                x -> super::Residual * 2 -> super::Scale => y;
                output y;
            }
        }
    }
}

use blocks::Residual;

mithril::model! {
    /// A private model, used by the next block of this module.
    Widen {
        input x: [B, 8];
        x -> Linear(16) => y;
        output y;
    }
}

mithril::model! {
    Wide {
        input x: [B, 8];
        x -> Widen -> Relu => y;
        output y;
    }
}

mithril::model! {
    Net {
        input a: [B, 8], b: [B, 3];
        a -> Residual -> blocks::deeper::Stack => h;
        b -> blocks::Scale => s;
        Concat(h, s) -> out: Linear(2) => y;
        output y;
    }
}

fn main() -> Result<(), mithril::Error> {
    assert_eq!(Net::OUTPUT_SHAPES, &[("y", "[B, 2]")]);
    assert_eq!(Wide::OUTPUT_SHAPES, &[("y", "[B, 16]")]);
    assert_eq!(Wide::PARAMETER_COUNT, 8 * 16 + 16);
    let paths: Vec<&str> = Net::graph().weights.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "residual_0.fc.weight",
            "residual_0.fc.bias",
            "stack_0.residual_0.0.fc.weight",
            "stack_0.residual_0.0.fc.bias",
            "stack_0.residual_0.1.fc.weight",
            "stack_0.residual_0.1.fc.bias",
            "out.weight",
            "out.bias",
        ]
    );
    let backend = MlxBackend::new()?;
    let params = Net::init(&backend)?;
    let _: &blocks::ResidualParams = &params.residual_0;
    assert_eq!(params.stack_0.residual_0.len(), 2);
    let out = Net::forward(
        &params,
        &NetInputs { a: Array::ones::<f32>(&[5, 8])?, b: Array::ones::<f32>(&[5, 3])? },
    )?;
    assert_eq!(out.y.shape(), &[5, 2]);
    Ok(())
}

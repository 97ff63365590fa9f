//! A model built from blocks of another crate (`mithril_zoo`) and of
//! another module of this crate (`heads`), each used as a layer, nested
//! and repeated, with every shape checked while this crate compiles.
//!
//! ```sh
//! cargo run -p zoo-app
//! ```

mod heads;

use mithril::prelude::*;
use mithril_zoo::blocks::GatedMlp;

mithril::model! {
    /// Embeddings -> two transformer blocks (another crate, by path) -> a
    /// gated MLP (another crate, imported) -> the classifier head (another
    /// module).
    pub SequenceClassifier {
        input tokens: [B, T];
        tokens -> embed: Embedding(100, 32)
               -> encoder: mithril_zoo::transformer::TransformerBlock * 2
               -> gated: GatedMlp
               -> head: heads::ClassifierHead => logits;
        output logits;
    }
}

fn main() -> Result<(), mithril::Error> {
    println!("{}", SequenceClassifier::summary());
    let backend = MlxBackend::builder().seed(0).build()?;
    let params = SequenceClassifier::init(&backend)?;
    let tokens = Array::from_slice(&[1i32, 2, 3, 4, 5, 6, 7, 8], &[2, 4]);
    let out = SequenceClassifier::forward(&params, &SequenceClassifierInputs { tokens })?;
    assert_eq!(out.logits.shape(), &[2, 10]);
    // Parameters nest as within one block: the crate's struct types appear
    // in this crate's parameter tree.
    let first: &mithril_zoo::transformer::TransformerBlockParams = &params.encoder[0];
    assert_eq!(first.mlp.up.weight.shape(), &[64, 32]);
    assert_eq!(params.head.logits.weight.shape(), &[10, 16]);
    println!("logits: {:?}", out.logits.shape());
    Ok(())
}

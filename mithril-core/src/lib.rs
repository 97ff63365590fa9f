//! Backend-free core of mithril: the model IR, shape algebra and the layer
//! catalogue with each layer's shape rule.
//!
//! The `model!` macro runs these rules while your crate compiles; the MLX
//! backend runs the same rules on concrete shapes. Nothing here touches MLX.

pub mod args;
pub mod dim;
pub mod graph;
pub mod layers;
pub mod shape;

pub use args::{ArgSpec, ArgValue};
pub use dim::{Bindings, Dim};
pub use graph::{Graph, ModelSpec};
pub use layers::Layer;
pub use shape::Shape;

/// The candidate closest to `word` by edit distance, if close enough to suggest.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    fn distance(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.to_lowercase().chars().collect();
        let b: Vec<char> = b.to_lowercase().chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for i in 1..=a.len() {
            let mut prev = row[0];
            row[0] = i;
            for j in 1..=b.len() {
                let cur = row[j];
                row[j] = (row[j] + 1)
                    .min(row[j - 1] + 1)
                    .min(prev + usize::from(a[i - 1] != b[j - 1]));
                prev = cur;
            }
        }
        row[b.len()]
    }
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

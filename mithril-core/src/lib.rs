//! Backend-free core of mithril: the model IR, shape algebra and the layer
//! catalogue with each layer's shape rule.
//!
//! The `model!` macro runs these rules while your crate compiles; the MLX
//! backend runs the same rules on concrete shapes. Nothing here touches MLX.

pub mod args;
pub mod dim;
pub mod family;
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
    /// Edit distance counting a swap of neighbours (`Linaer`) as one edit.
    fn distance(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.to_lowercase().chars().collect();
        let b: Vec<char> = b.to_lowercase().chars().collect();
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        for (j, cell) in d[0].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j] + 1)
                    .min(d[i][j - 1] + 1)
                    .min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                }
            }
        }
        d[a.len()][b.len()]
    }
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn closest_counts_a_swap_as_one_edit() {
        assert_eq!(super::closest("bais", &["units", "bias"]), Some("bias"));
        assert_eq!(
            super::closest("Linaer", &["Linear", "Relu"]),
            Some("Linear")
        );
        assert_eq!(
            super::closest("kernal", &["filters", "kernel"]),
            Some("kernel")
        );
        assert_eq!(super::closest("zzz", &["units", "bias"]), None);
    }
}

//! Shapes: lists of [`Dim`]s, written `[B, 28, 28, 1]`.

use std::fmt;

use crate::dim::{Bindings, Dim};

/// The shape of a value: one [`Dim`] per axis.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(pub Vec<Dim>);

impl Shape {
    /// A shape of known sizes.
    pub fn known(dims: &[usize]) -> Shape {
        Shape(dims.iter().map(|&d| Dim::Lit(d)).collect())
    }

    /// The number of axes.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// The dims.
    pub fn dims(&self) -> &[Dim] {
        &self.0
    }

    /// Normalises a possibly negative axis (`-1` is the last) for this rank.
    pub fn axis(&self, axis: i64) -> Option<usize> {
        let rank = self.rank() as i64;
        let a = if axis < 0 { axis + rank } else { axis };
        (0..rank).contains(&a).then_some(a as usize)
    }

    /// The product of the dims from `start` on.
    pub fn product(&self, start: usize) -> Dim {
        self.0[start..]
            .iter()
            .fold(Dim::Lit(1), |acc, d| acc.mul(d))
    }

    /// Every size, when none is symbolic.
    pub fn as_known(&self) -> Option<Vec<usize>> {
        self.0.iter().map(Dim::as_lit).collect()
    }

    /// Replaces symbols by their bound values.
    pub fn substitute(&self, bindings: &dyn Fn(&str) -> Option<Dim>) -> Shape {
        Shape(self.0.iter().map(|d| d.substitute(bindings)).collect())
    }

    /// Sizes under `bindings`, when every symbol is bound.
    pub fn evaluate(&self, bindings: &Bindings) -> Option<Vec<usize>> {
        self.0.iter().map(|d| d.evaluate(bindings)).collect()
    }

    /// Binds this declared shape's symbols to an actual shape, checking
    /// literal sizes and symbols already bound (by earlier inputs).
    pub fn bind(&self, actual: &[usize], bindings: &mut Bindings) -> Result<(), BindError> {
        if actual.len() != self.rank() {
            return Err(BindError::Rank);
        }
        let mut staged = bindings.clone();
        for (axis, (declared, &got)) in self.0.iter().zip(actual).enumerate() {
            match declared {
                Dim::Lit(n) if *n != got => return Err(BindError::Size { axis }),
                Dim::Lit(_) => {}
                Dim::Sym(s) => match staged.get(s) {
                    Some(&bound) if bound != got => {
                        return Err(BindError::Symbol {
                            axis,
                            symbol: s.to_string(),
                            bound,
                        });
                    }
                    Some(_) => {}
                    None => {
                        staged.insert(s.clone(), got);
                    }
                },
                Dim::Expr(_) => match declared.evaluate(&staged) {
                    Some(n) if n == got => {}
                    _ => return Err(BindError::Size { axis }),
                },
            }
        }
        *bindings = staged;
        Ok(())
    }
}

/// Why an actual shape does not fit a declared one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindError {
    /// Different number of axes.
    Rank,
    /// A literal or computed size differs.
    Size {
        /// The axis.
        axis: usize,
    },
    /// A symbol already bound to another size.
    Symbol {
        /// The axis.
        axis: usize,
        /// The symbol.
        symbol: String,
        /// Its earlier binding.
        bound: usize,
    },
}

impl From<Vec<Dim>> for Shape {
    fn from(dims: Vec<Dim>) -> Shape {
        Shape(dims)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Formats concrete sizes like a [`Shape`]: `[32, 28, 28, 3]`.
pub fn display_sizes(sizes: &[usize]) -> String {
    Shape::known(sizes).to_string()
}

/// Writes bindings as `B = 32, T = 7`.
pub fn display_bindings(bindings: &Bindings) -> String {
    bindings
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_checks_literals_and_symbols() {
        let declared = Shape(vec![Dim::sym("B"), Dim::Lit(28), Dim::Lit(28), Dim::Lit(1)]);
        let mut b = Bindings::new();
        declared.bind(&[32, 28, 28, 1], &mut b).unwrap();
        assert_eq!(b["B"], 32);
        assert_eq!(
            declared.bind(&[32, 28, 28, 3], &mut b),
            Err(BindError::Size { axis: 3 })
        );
        let err = declared.bind(&[16, 28, 28, 1], &mut b).unwrap_err();
        assert_eq!(
            err,
            BindError::Symbol {
                axis: 0,
                symbol: "B".into(),
                bound: 32
            }
        );
        assert_eq!(declared.bind(&[32, 28, 28], &mut b), Err(BindError::Rank));
        assert_eq!(declared.to_string(), "[B, 28, 28, 1]");
    }
}

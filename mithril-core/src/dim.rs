//! Dimensions: literal sizes, named symbols (`B`, `T`) and expressions over them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The largest size of an axis: MLX's shapes are `i32`.
pub const MAX_SIZE: usize = i32::MAX as usize;

/// One dimension of a shape.
///
/// Symbols stand for sizes known only when the model runs (a batch size `B`,
/// a sequence length `T`). Layers that compute a size from a symbolic one
/// (a flatten, a strided convolution) produce an [`Dim::Expr`], kept
/// simplified so that equal sizes compare equal.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    /// A size known while the crate compiles.
    Lit(usize),
    /// A named size, bound when the model runs.
    Sym(Arc<str>),
    /// A size computed from symbols.
    Expr(Arc<DimExpr>),
}

/// An arithmetic expression over dimensions.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum DimExpr {
    /// `a + b`
    Add(Dim, Dim),
    /// `a - b`
    Sub(Dim, Dim),
    /// `a * b`
    Mul(Dim, Dim),
    /// `a / b`, rounding down (strided windows).
    FloorDiv(Dim, Dim),
}

/// Values bound to symbolic dimensions, e.g. `B = 32`.
pub type Bindings = BTreeMap<Arc<str>, usize>;

impl Dim {
    /// A symbolic dimension.
    pub fn sym(name: &str) -> Dim {
        Dim::Sym(Arc::from(name))
    }

    /// The size, when it is known.
    pub fn as_lit(&self) -> Option<usize> {
        match self {
            Dim::Lit(n) => Some(*n),
            _ => None,
        }
    }

    /// Whether the dimension names no symbol.
    pub fn is_known(&self) -> bool {
        matches!(self, Dim::Lit(_))
    }

    /// `self + other`, simplified: sums are kept as a linear combination of
    /// their terms plus a constant, so `H + 2 - 3 + 1` is `H`.
    pub fn add(&self, other: &Dim) -> Dim {
        let (mut terms, constant) = self.linear();
        let (more, c) = other.linear();
        for (t, k) in more {
            add_term(&mut terms, t, k);
        }
        Dim::from_linear(terms, constant + c)
            .unwrap_or_else(|| Dim::Expr(Arc::new(DimExpr::Add(self.clone(), other.clone()))))
    }

    /// `self - other`, simplified; `None` when the result is certainly negative.
    pub fn sub(&self, other: &Dim) -> Option<Dim> {
        let (mut terms, constant) = self.linear();
        let (less, c) = other.linear();
        for (t, k) in less {
            add_term(&mut terms, t, -k);
        }
        let constant = constant - c;
        if terms.is_empty() && constant < 0 {
            return None;
        }
        Some(
            Dim::from_linear(terms, constant)
                .unwrap_or_else(|| Dim::Expr(Arc::new(DimExpr::Sub(self.clone(), other.clone())))),
        )
    }

    /// A sum as its non-constant terms with integer coefficients, and a constant.
    ///
    /// Coefficients are `i128`: sums of sizes up to `usize::MAX` cannot
    /// overflow them, and a result that does not fit a size is not folded.
    fn linear(&self) -> (Vec<(Dim, i128)>, i128) {
        match self {
            Dim::Lit(n) => (Vec::new(), *n as i128),
            Dim::Expr(e) => match &**e {
                DimExpr::Add(a, b) | DimExpr::Sub(a, b) => {
                    let sign = if matches!(**e, DimExpr::Add(..)) {
                        1
                    } else {
                        -1
                    };
                    let (mut terms, ca) = a.linear();
                    let (tb, cb) = b.linear();
                    for (t, k) in tb {
                        add_term(&mut terms, t, sign * k);
                    }
                    (terms, ca + sign * cb)
                }
                _ => (vec![(self.clone(), 1)], 0),
            },
            Dim::Sym(_) => (vec![(self.clone(), 1)], 0),
        }
    }

    /// Rebuilds a canonical sum (positive terms first, in order, then
    /// subtracted ones, then the constant); `None` when it cannot be written
    /// without a leading negative term.
    fn from_linear(mut terms: Vec<(Dim, i128)>, constant: i128) -> Option<Dim> {
        terms.retain(|(_, k)| *k != 0);
        terms.sort();
        let size = |k: i128| usize::try_from(k.unsigned_abs()).ok().map(Dim::Lit);
        let scaled = |t: &Dim, k: i128| Some(t.mul(&size(k)?));
        let mut positive = terms.iter().filter(|(_, k)| *k > 0);
        let Some((first, k)) = positive.next() else {
            return if terms.is_empty() && constant >= 0 {
                size(constant)
            } else {
                None
            };
        };
        let mut acc = scaled(first, *k)?;
        for (t, k) in positive {
            acc = Dim::Expr(Arc::new(DimExpr::Add(acc, scaled(t, *k)?)));
        }
        for (t, k) in terms.iter().filter(|(_, k)| *k < 0) {
            acc = Dim::Expr(Arc::new(DimExpr::Sub(acc, scaled(t, *k)?)));
        }
        Some(match constant {
            0 => acc,
            c if c > 0 => Dim::Expr(Arc::new(DimExpr::Add(acc, size(c)?))),
            c => Dim::Expr(Arc::new(DimExpr::Sub(acc, size(c)?))),
        })
    }

    /// `self * other`, simplified: a product is kept as its symbolic factors
    /// in a fixed order times one literal coefficient, so `B*28*28` and
    /// `B*784` compare equal.
    ///
    /// A literal product too large for `usize` is left unfolded (an
    /// expression of literals), which shape rules treat as unknown and the
    /// graph reports as too large.
    pub fn mul(&self, other: &Dim) -> Dim {
        let (ca, mut fa) = self.factors();
        let (cb, fb) = other.factors();
        fa.extend(fb);
        match ca.checked_mul(cb) {
            Some(c) => Dim::product_of(c, fa),
            None => Dim::Expr(Arc::new(DimExpr::Mul(self.clone(), other.clone()))),
        }
    }

    /// Splits a product into its literal coefficient and its other factors.
    fn factors(&self) -> (usize, Vec<Dim>) {
        match self {
            Dim::Lit(n) => (*n, Vec::new()),
            Dim::Expr(e) => match &**e {
                DimExpr::Mul(a, b) => {
                    let (ca, mut fa) = a.factors();
                    let (cb, fb) = b.factors();
                    match ca.checked_mul(cb) {
                        Some(c) => {
                            fa.extend(fb);
                            (c, fa)
                        }
                        // An unfolded product of literals stays one factor.
                        None => (1, vec![self.clone()]),
                    }
                }
                _ => (1, vec![self.clone()]),
            },
            Dim::Sym(_) => (1, vec![self.clone()]),
        }
    }

    fn product_of(coefficient: usize, mut factors: Vec<Dim>) -> Dim {
        if coefficient == 0 {
            return Dim::Lit(0);
        }
        factors.sort();
        let mut it = factors.into_iter();
        let Some(first) = it.next() else {
            return Dim::Lit(coefficient);
        };
        let mut acc = first;
        for f in it {
            acc = Dim::Expr(Arc::new(DimExpr::Mul(acc, f)));
        }
        if coefficient == 1 {
            acc
        } else {
            Dim::Expr(Arc::new(DimExpr::Mul(acc, Dim::Lit(coefficient))))
        }
    }

    /// `self / divisor` rounded down, simplified. `divisor` must not be zero.
    pub fn floor_div(&self, divisor: usize) -> Dim {
        match self {
            Dim::Lit(a) => Dim::Lit(a / divisor),
            _ if divisor == 1 => self.clone(),
            _ => Dim::Expr(Arc::new(DimExpr::FloorDiv(self.clone(), Dim::Lit(divisor)))),
        }
    }

    /// Exact division: `Some` when `self` is certainly a multiple of `divisor`.
    pub fn exact_div(&self, divisor: &Dim) -> Option<Dim> {
        let (cn, mut fnum) = self.factors();
        let (cd, fden) = divisor.factors();
        if cd == 0 || cn % cd != 0 {
            return None;
        }
        for f in fden {
            let at = fnum.iter().position(|g| *g == f)?;
            fnum.remove(at);
        }
        Some(Dim::product_of(cn / cd, fnum))
    }

    /// The symbols this dimension mentions.
    pub fn symbols(&self, out: &mut Vec<Arc<str>>) {
        match self {
            Dim::Lit(_) => {}
            Dim::Sym(s) => {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
            Dim::Expr(e) => {
                let (a, b) = e.operands();
                a.symbols(out);
                b.symbols(out);
            }
        }
    }

    /// Replaces bound symbols by their values and simplifies.
    pub fn substitute(&self, bindings: &dyn Fn(&str) -> Option<Dim>) -> Dim {
        match self {
            Dim::Lit(_) => self.clone(),
            Dim::Sym(s) => bindings(s).unwrap_or_else(|| self.clone()),
            Dim::Expr(e) => match &**e {
                DimExpr::Add(a, b) => a.substitute(bindings).add(&b.substitute(bindings)),
                DimExpr::Sub(a, b) => {
                    let (a, b) = (a.substitute(bindings), b.substitute(bindings));
                    a.sub(&b)
                        .unwrap_or_else(|| Dim::Expr(Arc::new(DimExpr::Sub(a, b))))
                }
                DimExpr::Mul(a, b) => a.substitute(bindings).mul(&b.substitute(bindings)),
                DimExpr::FloorDiv(a, b) => match b.substitute(bindings) {
                    Dim::Lit(d) if d != 0 => a.substitute(bindings).floor_div(d),
                    b => Dim::Expr(Arc::new(DimExpr::FloorDiv(a.substitute(bindings), b))),
                },
            },
        }
    }

    /// The size under `bindings`, when every symbol is bound.
    pub fn evaluate(&self, bindings: &Bindings) -> Option<usize> {
        self.substitute(&|s| bindings.get(s).map(|&n| Dim::Lit(n)))
            .as_lit()
    }
}

fn add_term(terms: &mut Vec<(Dim, i128)>, term: Dim, k: i128) {
    match terms.iter_mut().find(|(t, _)| *t == term) {
        Some((_, existing)) => *existing += k,
        None => terms.push((term, k)),
    }
}

impl DimExpr {
    fn operands(&self) -> (&Dim, &Dim) {
        match self {
            DimExpr::Add(a, b)
            | DimExpr::Sub(a, b)
            | DimExpr::Mul(a, b)
            | DimExpr::FloorDiv(a, b) => (a, b),
        }
    }
}

impl From<usize> for Dim {
    fn from(n: usize) -> Dim {
        Dim::Lit(n)
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn operand(f: &mut fmt::Formatter<'_>, d: &Dim) -> fmt::Result {
            match d {
                Dim::Expr(e) if matches!(**e, DimExpr::Add(..) | DimExpr::Sub(..)) => {
                    write!(f, "({d})")
                }
                _ => write!(f, "{d}"),
            }
        }
        match self {
            Dim::Lit(n) => write!(f, "{n}"),
            Dim::Sym(s) => f.write_str(s),
            Dim::Expr(e) => match &**e {
                DimExpr::Add(a, b) => write!(f, "{a} + {b}"),
                DimExpr::Sub(a, b) => write!(f, "{a} - {b}"),
                DimExpr::Mul(a, b) => {
                    operand(f, a)?;
                    f.write_str("*")?;
                    operand(f, b)
                }
                DimExpr::FloorDiv(a, b) => {
                    operand(f, a)?;
                    f.write_str("/")?;
                    operand(f, b)
                }
            },
        }
    }
}

impl fmt::Debug for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_arithmetic_folds() {
        assert_eq!(Dim::Lit(3).mul(&Dim::Lit(4)), Dim::Lit(12));
        assert_eq!(
            Dim::Lit(7).sub(&Dim::Lit(3)).unwrap().floor_div(2),
            Dim::Lit(2)
        );
        assert_eq!(Dim::Lit(3).sub(&Dim::Lit(4)), None);
    }

    #[test]
    fn sums_cancel_to_canonical_forms() {
        let h = Dim::sym("H");
        // A `same` convolution: H + 2*1 - 3 + 1 is H.
        let same = h
            .add(&Dim::Lit(2))
            .sub(&Dim::Lit(3))
            .unwrap()
            .floor_div(1)
            .add(&Dim::Lit(1));
        assert_eq!(same, h);
        let t = Dim::sym("T");
        assert_eq!(t.add(&h), h.add(&t));
        assert_eq!(
            t.sub(&Dim::Lit(3)).unwrap().add(&Dim::Lit(1)).to_string(),
            "T - 2"
        );
        assert_eq!(t.add(&t).to_string(), "T*2");
        assert_eq!(t.sub(&t), Some(Dim::Lit(0)));
        assert_eq!(Dim::Lit(2).sub(&t).unwrap().to_string(), "2 - T");
    }

    #[test]
    fn symbolic_products_are_canonical_and_divide_back() {
        let t = Dim::sym("T");
        let a = t.mul(&Dim::Lit(64));
        let b = Dim::Lit(64).mul(&t);
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "T*64");
        assert_eq!(a.exact_div(&Dim::Lit(64)), Some(t.clone()));
        assert_eq!(a.exact_div(&Dim::Lit(32)), Some(t.mul(&Dim::Lit(2))));
        assert_eq!(a.exact_div(&Dim::Lit(3)), None);
        let b28 = Dim::sym("B").mul(&Dim::Lit(28)).mul(&Dim::Lit(28));
        assert_eq!(b28, Dim::sym("B").mul(&Dim::Lit(784)));
        assert_eq!(b28.exact_div(&Dim::sym("B")), Some(Dim::Lit(784)));
    }

    #[test]
    fn overflowing_literals_stay_unfolded() {
        let big = Dim::Lit(usize::MAX / 2);
        let product = big.mul(&Dim::Lit(3));
        assert_eq!(product.as_lit(), None);
        assert_eq!(product.mul(&Dim::sym("B")).as_lit(), None);
        let sum = big.add(&big).add(&Dim::Lit(5));
        assert_eq!(sum.as_lit(), None);
        assert_eq!(
            Dim::Lit(usize::MAX).sub(&Dim::Lit(1)),
            Some(Dim::Lit(usize::MAX - 1))
        );
    }

    #[test]
    fn substitution_evaluates() {
        let h = Dim::sym("H");
        let out = h.sub(&Dim::Lit(3)).unwrap().floor_div(2).add(&Dim::Lit(1));
        assert_eq!(out.to_string(), "(H - 3)/2 + 1");
        let mut b = Bindings::new();
        b.insert("H".into(), 9);
        assert_eq!(out.evaluate(&b), Some(4));
    }
}

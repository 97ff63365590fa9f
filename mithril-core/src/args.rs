//! Layer arguments: the values written in a layer call, `Conv2d(16, kernel = 3)`,
//! and their binding to a layer's declared parameters.

use std::borrow::Cow;
use std::fmt;

use crate::dim::{Dim, MAX_SIZE};
use crate::shape::Shape;

/// A string that is `&'static` in generated code and owned while parsing.
pub type Str = Cow<'static, str>;
/// A list that is `&'static` in generated code and owned while parsing.
pub type List<T> = Cow<'static, [T]>;

/// A literal written as a layer argument.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue {
    /// `128`, `-1`
    Int(i64),
    /// `0.1`
    Float(f64),
    /// `true`
    Bool(bool),
    /// A bare word: `same`, `valid`, or a symbol such as `B` inside a list.
    Ident(Str),
    /// A path to a user item, `my_ops::swish` (custom ops).
    Path(Str),
    /// `[B, 10]`
    List(List<ArgValue>),
    /// `(3, 3)`
    Tuple(List<ArgValue>),
    /// A number too large to hold (an integer beyond `i64`, a float beyond
    /// `f64`), kept as written so that the argument's error can quote it.
    Overflow(Str),
    /// An expression of a model's parameters (`4 * d`), in a family's
    /// template: instantiation replaces it by its value.
    Expr(crate::family::Expr),
}

impl ArgValue {
    /// The first number in this value (or its items) outside what any
    /// argument takes: an integer beyond `±MAX_SIZE`, or an [`ArgValue::Overflow`].
    fn out_of_range(&self) -> Option<&ArgValue> {
        match self {
            ArgValue::Int(n) if n.unsigned_abs() > MAX_SIZE as u64 => Some(self),
            ArgValue::Overflow(_) => Some(self),
            ArgValue::List(items) | ArgValue::Tuple(items) => {
                items.iter().find_map(ArgValue::out_of_range)
            }
            _ => None,
        }
    }
}

impl fmt::Display for ArgValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn items(f: &mut fmt::Formatter<'_>, items: &[ArgValue]) -> fmt::Result {
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{v}")?;
            }
            Ok(())
        }
        match self {
            ArgValue::Int(n) => write!(f, "{n}"),
            ArgValue::Float(x) => write!(f, "{x:?}"),
            ArgValue::Bool(b) => write!(f, "{b}"),
            ArgValue::Ident(s) | ArgValue::Path(s) | ArgValue::Overflow(s) => f.write_str(s),
            ArgValue::List(v) => {
                f.write_str("[")?;
                items(f, v)?;
                f.write_str("]")
            }
            ArgValue::Tuple(v) => {
                f.write_str("(")?;
                items(f, v)?;
                f.write_str(")")
            }
            ArgValue::Expr(e) => f.write_str(&crate::family::expr::display(e)),
        }
    }
}

/// One argument as written: by position (`name: None`) or by name.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgSpec {
    /// The name, for `name = value`.
    pub name: Option<Str>,
    /// The value.
    pub value: ArgValue,
}

/// What an argument is when a call leaves it out. The rule reads it from
/// here (see [`Args`]'s readers), as do the docs and the errors, so the
/// three cannot disagree.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgDefault {
    /// Nothing: the argument is required.
    Required,
    /// This value, as if the call had written it.
    Value(ArgValue),
    /// No single value: the rule works it out from the other arguments or
    /// the input. In words, for docs and errors: "the kernel".
    Derived(&'static str),
}

/// A parameter a layer declares.
#[derive(Clone, Debug)]
pub struct ArgDef {
    /// Its name, usable as `name = value`.
    pub name: &'static str,
    /// What it accepts, in words, for errors and docs: "a positive integer".
    pub expects: &'static str,
    /// What it is when left out.
    pub default: ArgDefault,
}

impl ArgDef {
    /// A required parameter.
    pub const fn required(name: &'static str, expects: &'static str) -> ArgDef {
        ArgDef {
            name,
            expects,
            default: ArgDefault::Required,
        }
    }

    /// A parameter that is `default` when left out.
    pub const fn optional(name: &'static str, expects: &'static str, default: ArgValue) -> ArgDef {
        ArgDef {
            name,
            expects,
            default: ArgDefault::Value(default),
        }
    }

    /// A parameter whose default the rule works out (`what`, in words).
    pub const fn derived(name: &'static str, expects: &'static str, what: &'static str) -> ArgDef {
        ArgDef {
            name,
            expects,
            default: ArgDefault::Derived(what),
        }
    }

    /// Whether a call must give it.
    pub fn is_required(&self) -> bool {
        self.default == ArgDefault::Required
    }

    /// The value it has when left out, if that is one value.
    pub fn default_value(&self) -> Option<&ArgValue> {
        match &self.default {
            ArgDefault::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The parameter with its default, as docs and errors write it:
    /// `` `units` ``, `` `bias = true` ``, `` `stride` (default: the kernel) ``.
    pub fn describe(&self) -> String {
        match &self.default {
            ArgDefault::Required => format!("`{}`", self.name),
            ArgDefault::Value(v) => format!("`{} = {v}`", self.name),
            ArgDefault::Derived(what) => format!("`{}` (default: {what})", self.name),
        }
    }
}

impl ArgValue {
    /// A bare word, in a constant: `ArgValue::word("valid")`.
    pub const fn word(word: &'static str) -> ArgValue {
        ArgValue::Ident(Cow::Borrowed(word))
    }
}

/// Where an argument came from, so errors can point at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgSite {
    /// The layer call as a whole (a missing argument).
    Call,
    /// The argument at this index of the call.
    Arg(usize),
}

/// A problem with a layer's arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgError {
    /// Where to point.
    pub site: ArgSite,
    /// What is wrong, in lowercase prose.
    pub message: String,
}

impl ArgError {
    fn at(site: ArgSite, message: impl Into<String>) -> ArgError {
        ArgError {
            site,
            message: message.into(),
        }
    }
}

/// Arguments bound to a layer's parameters, read by its
/// [`LayerRule::from_args`](crate::layers::LayerRule::from_args).
///
/// The readers take no default: an argument left out reads as its
/// [`ArgDef`]'s declared [`ArgDefault`], so a rule cannot read a default
/// other than the one its docs and errors show.
pub struct Args<'a> {
    layer: &'static str,
    defs: &'static [ArgDef],
    bound: Vec<Option<(usize, &'a ArgValue)>>,
}

impl<'a> Args<'a> {
    /// Binds positional then named arguments to `defs`; reports every problem.
    pub fn bind(
        layer: &'static str,
        defs: &'static [ArgDef],
        args: &'a [ArgSpec],
    ) -> Result<Args<'a>, Vec<ArgError>> {
        let mut bound: Vec<Option<(usize, &ArgValue)>> = vec![None; defs.len()];
        let mut errors = Vec::new();
        let mut seen_named = false;
        let mut position = 0;
        // Values given but not bound (a misplaced positional argument, a
        // misspelt name): a required argument missing then is no news.
        let mut unplaced = false;
        let mut suggested: Vec<&str> = Vec::new();
        for (index, arg) in args.iter().enumerate() {
            let site = ArgSite::Arg(index);
            match &arg.name {
                None if seen_named => {
                    unplaced = true;
                    errors.push(ArgError::at(
                        site,
                        format!(
                            "positional argument `{}` of `{layer}` follows the named argument `{}`; positional arguments come first",
                            arg.value,
                            args.iter().find_map(|a| a.name.as_deref()).unwrap_or_default()
                        ),
                    ))
                }
                None => {
                    if position < defs.len() {
                        bound[position] = Some((index, &arg.value));
                        position += 1;
                    } else {
                        errors.push(ArgError::at(site, too_many(layer, defs)));
                    }
                }
                Some(name) => {
                    seen_named = true;
                    match defs.iter().position(|d| d.name == name) {
                        Some(slot) if bound[slot].is_some() => errors.push(ArgError::at(
                            site,
                            format!("argument `{name}` of `{layer}` is given twice"),
                        )),
                        Some(slot) => bound[slot] = Some((index, &arg.value)),
                        None => {
                            let names: Vec<&str> = defs.iter().map(|d| d.name).collect();
                            let suggestion = crate::closest(name, &names);
                            suggested.extend(suggestion);
                            let hint = suggestion
                                .map(|n| format!("; did you mean `{n}`?"))
                                .unwrap_or_else(|| describe_params(layer, defs));
                            errors.push(ArgError::at(
                                site,
                                format!("`{layer}` has no argument `{name}`{hint}"),
                            ));
                        }
                    }
                }
            }
        }
        for (def, slot) in defs.iter().zip(&bound) {
            if let Some((index, value)) = slot
                && let Some(number) = value.out_of_range()
            {
                let limit = match number {
                    ArgValue::Overflow(text)
                        if !text
                            .trim_start_matches('-')
                            .chars()
                            .all(|c| c.is_ascii_digit()) =>
                    {
                        "the largest 64-bit float".to_string()
                    }
                    _ => format!("the largest size or axis MLX takes ({MAX_SIZE})"),
                };
                errors.push(ArgError::at(
                    ArgSite::Arg(*index),
                    format!(
                        "argument `{}` of `{layer}` must be {}, found `{number}`, beyond {limit}",
                        def.name, def.expects
                    ),
                ));
            }
            if slot.is_none() && def.is_required() && !unplaced && !suggested.contains(&def.name) {
                errors.push(ArgError::at(
                    ArgSite::Call,
                    format!("`{layer}` needs argument `{}` ({})", def.name, def.expects),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Args { layer, defs, bound })
        } else {
            Err(errors)
        }
    }

    fn slot(&self, name: &str) -> (usize, &'static ArgDef) {
        let slot = self
            .defs
            .iter()
            .position(|d| d.name == name)
            .unwrap_or_else(|| panic!("layer `{}` reads undeclared argument `{name}`", self.layer));
        (slot, &self.defs[slot])
    }

    /// The value written for `name`, with its site; `None` when left out.
    pub fn given(&self, name: &str) -> Option<(ArgSite, &'a ArgValue)> {
        let (slot, _) = self.slot(name);
        self.bound[slot].map(|(i, v)| (ArgSite::Arg(i), v))
    }

    /// The value of `name`: as written, or else its declared default value
    /// (sited at the call). `None` when left out and the default is not
    /// one value (required, or worked out by the rule).
    pub fn value(&self, name: &str) -> Option<(ArgSite, &'a ArgValue)> {
        let (_, def) = self.slot(name);
        self.given(name)
            .or_else(|| def.default_value().map(|v| (ArgSite::Call, v)))
    }

    /// [`Args::value`], or the error that it is missing.
    pub(crate) fn present(&self, name: &str) -> Result<(ArgSite, &'a ArgValue), ArgError> {
        self.value(name).ok_or_else(|| {
            let (_, def) = self.slot(name);
            ArgError::at(
                ArgSite::Call,
                format!("`{}` needs argument `{name}` ({})", self.layer, def.expects),
            )
        })
    }

    /// Reads `name` with `read` unless it was left out and its default is
    /// worked out by the rule ([`ArgDefault::Derived`]): then `None`.
    pub fn optional<T>(
        &self,
        name: &str,
        read: impl FnOnce(&Self, &str) -> Result<T, ArgError>,
    ) -> Result<Option<T>, ArgError> {
        match self.value(name) {
            None => Ok(None),
            Some(_) => read(self, name).map(Some),
        }
    }

    pub(crate) fn invalid(&self, name: &str, value: &ArgValue, site: ArgSite) -> ArgError {
        let (_, def) = self.slot(name);
        ArgError::at(
            site,
            format!(
                "argument `{name}` of `{}` must be {}, found `{value}`",
                self.layer, def.expects
            ),
        )
    }

    /// [`Args::invalid`] for an argument that takes a literal (a number,
    /// `true`/`false`): a name there is most likely a Rust constant, which
    /// the macro cannot read.
    fn not_literal(&self, name: &str, value: &ArgValue, site: ArgSite, example: &str) -> ArgError {
        let mut error = self.invalid(name, value, site);
        if matches!(value, ArgValue::Ident(_) | ArgValue::Path(_)) {
            error.message.push_str(&format!(
                "; the macro reads arguments while the crate compiles, before Rust constants have values, so write the literal itself, such as `{example}`"
            ));
        }
        error
    }

    /// A positive integer.
    pub fn positive(&self, name: &str) -> Result<usize, ArgError> {
        match self.present(name)? {
            (_, ArgValue::Int(n)) if *n > 0 => Ok(*n as usize),
            (site, v) => Err(self.not_literal(name, v, site, "128")),
        }
    }

    /// A non-negative integer.
    pub fn count(&self, name: &str) -> Result<usize, ArgError> {
        match self.present(name)? {
            (_, ArgValue::Int(n)) if *n >= 0 => Ok(*n as usize),
            (site, v) => Err(self.not_literal(name, v, site, "2")),
        }
    }

    /// Any integer (an axis).
    pub fn int(&self, name: &str) -> Result<i64, ArgError> {
        match self.present(name)? {
            (_, ArgValue::Int(n)) => Ok(*n),
            (site, v) => Err(self.not_literal(name, v, site, "-1")),
        }
    }

    /// A number; integers are accepted.
    pub fn float(&self, name: &str) -> Result<f64, ArgError> {
        match self.present(name)? {
            (_, ArgValue::Float(x)) => Ok(*x),
            (_, ArgValue::Int(n)) => Ok(*n as f64),
            (site, v) => Err(self.not_literal(name, v, site, "0.1")),
        }
    }

    /// `true` or `false`.
    pub fn bool(&self, name: &str) -> Result<bool, ArgError> {
        match self.present(name)? {
            (_, ArgValue::Bool(b)) => Ok(*b),
            (site, v) => Err(self.not_literal(name, v, site, "true")),
        }
    }

    /// A positive integer or a pair of them: `3` or `(3, 5)`.
    pub fn pair(&self, name: &str) -> Result<[usize; 2], ArgError> {
        match self.present(name)? {
            (_, ArgValue::Int(n)) if *n > 0 => Ok([*n as usize; 2]),
            (site, v @ ArgValue::Tuple(items)) => match &items[..] {
                [ArgValue::Int(a), ArgValue::Int(b)] if *a > 0 && *b > 0 => {
                    Ok([*a as usize, *b as usize])
                }
                _ => Err(self.invalid(name, v, site)),
            },
            (site, v) => Err(self.not_literal(name, v, site, "3")),
        }
    }

    /// One of the given words.
    pub fn word(&self, name: &str, choices: &[&'static str]) -> Result<&'static str, ArgError> {
        match self.present(name)? {
            (site, v @ ArgValue::Ident(w)) => choices
                .iter()
                .find(|c| **c == w)
                .copied()
                .ok_or_else(|| self.invalid(name, v, site)),
            (site, v) => Err(self.invalid(name, v, site)),
        }
    }

    /// A shape written as a list, `[B, 10]`; `-1` (at most once) stands for
    /// "whatever makes the sizes match".
    pub fn shape(&self, name: &str) -> Result<(Vec<Option<Dim>>, ArgSite), ArgError> {
        let (site, value) = self.present(name)?;
        let ArgValue::List(items) = value else {
            return Err(self.invalid(name, value, site));
        };
        let mut dims = Vec::new();
        for item in items.iter() {
            dims.push(match item {
                ArgValue::Int(-1) => None,
                ArgValue::Int(n) if *n > 0 => Some(Dim::Lit(*n as usize)),
                ArgValue::Ident(s) => Some(Dim::sym(s)),
                _ => return Err(self.invalid(name, value, site)),
            });
        }
        if dims.iter().filter(|d| d.is_none()).count() > 1 {
            return Err(ArgError::at(
                site,
                format!("`{}` accepts at most one `-1` in `{name}`", self.layer),
            ));
        }
        Ok((dims, site))
    }

    /// A declared shape (symbols and literals, no `-1`).
    pub fn declared_shape(&self, name: &str) -> Result<Shape, ArgError> {
        let (dims, site) = self.shape(name)?;
        let dims: Option<Vec<Dim>> = dims.into_iter().collect();
        match dims {
            Some(d) => Ok(Shape(d)),
            None => Err(ArgError::at(
                site,
                format!("`{name}` of `{}` cannot contain `-1`", self.layer),
            )),
        }
    }

    /// An error about argument `name` (or the call when it was defaulted).
    pub fn error(&self, name: &str, message: impl Into<String>) -> ArgError {
        let site = self.given(name).map_or(ArgSite::Call, |(s, _)| s);
        ArgError::at(site, message)
    }
}

fn too_many(layer: &str, defs: &[ArgDef]) -> String {
    format!(
        "too many arguments for `{layer}`{}",
        describe_params(layer, defs)
    )
}

fn describe_params(layer: &str, defs: &[ArgDef]) -> String {
    if defs.is_empty() {
        format!("; `{layer}` takes no arguments")
    } else {
        let names: Vec<String> = defs.iter().map(ArgDef::describe).collect();
        format!("; it takes {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    const DEFS: &[ArgDef] = &[
        ArgDef::required("units", "a positive integer"),
        ArgDef::optional("slope", "a number", ArgValue::Float(0.1)),
    ];

    fn bind(values: Vec<ArgValue>) -> Result<(), Vec<String>> {
        let specs: Vec<ArgSpec> = values
            .into_iter()
            .map(|value| ArgSpec { name: None, value })
            .collect();
        let args = Args::bind("Layer", DEFS, &specs)
            .map_err(|e| e.into_iter().map(|e| e.message).collect::<Vec<_>>())?;
        args.positive("units").map_err(|e| vec![e.message])?;
        args.float("slope").map_err(|e| vec![e.message])?;
        Ok(())
    }

    #[test]
    fn numbers_beyond_their_range_name_the_argument() {
        assert_eq!(bind(vec![ArgValue::Int(2147483647)]), Ok(()));
        assert_eq!(
            bind(vec![ArgValue::Int(2147483648)]),
            Err(vec!["argument `units` of `Layer` must be a positive integer, found `2147483648`, beyond the largest size or axis MLX takes (2147483647)".to_string()])
        );
        assert_eq!(
            bind(vec![ArgValue::Int(1), ArgValue::Overflow(Cow::Borrowed("1e999"))]),
            Err(vec!["argument `slope` of `Layer` must be a number, found `1e999`, beyond the largest 64-bit float".to_string()])
        );
    }

    #[test]
    fn a_name_where_a_literal_belongs_is_explained() {
        let Err(errors) = bind(vec![ArgValue::Ident(Cow::Borrowed("HIDDEN"))]) else {
            panic!("a constant is no literal");
        };
        assert!(errors[0].starts_with("argument `units` of `Layer` must be a positive integer, found `HIDDEN`; the macro reads arguments while the crate compiles"), "{errors:?}");
    }
}

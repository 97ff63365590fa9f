//! Expressions of a model's parameters: `4 * d`, `d / heads`, `depths[i]`,
//! `1.0 / 8.0`, written wherever a number goes and evaluated when the model
//! is instantiated.
//!
//! An expression is stored in postfix order (a list of [`ExprTok`]s), so
//! that generated code can embed it as static data like the rest of a spec.

use std::fmt;

use crate::args::{ArgValue, List, Str};

/// One step of an expression in postfix order.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprTok {
    /// A literal: an integer, a float, a boolean or a word (a layer).
    Value(ArgValue),
    /// The value of a model parameter (or a loop's index) by name.
    Param(Str),
    /// `-a`
    Neg,
    /// `a op b`
    Binary(BinaryOp),
    /// `f(a, ..)`, with its number of arguments.
    Call(Func, usize),
    /// `list[index]`
    Index,
    /// `[a, b, ..]` of this many items.
    List(usize),
    /// `(a, b, ..)` of this many items.
    Tuple(usize),
}

/// An arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`: exact for integers (a remainder is an error), real for floats.
    Div,
    /// `%`
    Rem,
}

impl BinaryOp {
    fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            BinaryOp::Add | BinaryOp::Sub => 1,
            _ => 2,
        }
    }
}

/// A function of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `min(a, b)`
    Min,
    /// `max(a, b)`
    Max,
    /// `pow(base, exponent)` of integers.
    Pow,
    /// `len(list)`
    Len,
}

impl Func {
    /// The function of this name.
    pub fn named(name: &str) -> Option<Func> {
        Some(match name {
            "min" => Func::Min,
            "max" => Func::Max,
            "pow" => Func::Pow,
            "len" => Func::Len,
            _ => return None,
        })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Func::Min => "min",
            Func::Max => "max",
            Func::Pow => "pow",
            Func::Len => "len",
        }
    }

    /// How many arguments it takes.
    pub fn arity(self) -> usize {
        match self {
            Func::Len => 1,
            _ => 2,
        }
    }
}

/// An expression: its steps in postfix order.
pub type Expr = List<ExprTok>;

/// Writes an expression in the usual infix notation (for errors and summaries).
pub fn display(expr: &[ExprTok]) -> String {
    // (text, precedence: 3 for atoms)
    let mut stack: Vec<(String, u8)> = Vec::new();
    let pop = |stack: &mut Vec<(String, u8)>| stack.pop().unwrap_or_default();
    for tok in expr {
        match tok {
            ExprTok::Value(v) => stack.push((v.to_string(), 3)),
            ExprTok::Param(p) => stack.push((p.to_string(), 3)),
            ExprTok::Neg => {
                let (a, p) = pop(&mut stack);
                let a = if p < 3 { format!("({a})") } else { a };
                stack.push((format!("-{a}"), 3));
            }
            ExprTok::Binary(op) => {
                let (b, pb) = pop(&mut stack);
                let (a, pa) = pop(&mut stack);
                let p = op.precedence();
                let a = if pa < p { format!("({a})") } else { a };
                let b = if pb <= p && pb < 3 {
                    format!("({b})")
                } else {
                    b
                };
                stack.push((format!("{a} {} {b}", op.symbol()), p));
            }
            ExprTok::Call(f, n) => {
                let args = take(&mut stack, *n);
                stack.push((format!("{}({})", f.name(), args.join(", ")), 3));
            }
            ExprTok::Index => {
                let (i, _) = pop(&mut stack);
                let (l, _) = pop(&mut stack);
                stack.push((format!("{l}[{i}]"), 3));
            }
            ExprTok::List(n) => {
                let items = take(&mut stack, *n);
                stack.push((format!("[{}]", items.join(", ")), 3));
            }
            ExprTok::Tuple(n) => {
                let items = take(&mut stack, *n);
                stack.push((format!("({})", items.join(", ")), 3));
            }
        }
    }
    stack.pop().map(|(s, _)| s).unwrap_or_default()
}

fn take(stack: &mut Vec<(String, u8)>, n: usize) -> Vec<String> {
    let at = stack.len().saturating_sub(n);
    stack.drain(at..).map(|(s, _)| s).collect()
}

/// The names of the parameters an expression reads.
pub fn params_of(expr: &[ExprTok]) -> impl Iterator<Item = &str> {
    expr.iter().filter_map(|t| match t {
        ExprTok::Param(p) => Some(&**p),
        _ => None,
    })
}

/// Evaluates an expression with the parameters' values from `env`.
/// Errors are lowercase prose that quote the expression.
pub fn eval(expr: &[ExprTok], env: &dyn Fn(&str) -> Option<ArgValue>) -> Result<ArgValue, String> {
    let text = || display(expr);
    let mut stack: Vec<ArgValue> = Vec::new();
    for tok in expr {
        let value = match tok {
            ExprTok::Value(v) => v.clone(),
            ExprTok::Param(p) => env(p).ok_or_else(|| format!("unknown parameter `{p}`"))?,
            ExprTok::Neg => match stack.pop() {
                Some(ArgValue::Int(n)) => ArgValue::Int(
                    n.checked_neg()
                        .ok_or_else(|| format!("`{}` overflows", text()))?,
                ),
                Some(ArgValue::Float(x)) => ArgValue::Float(-x),
                other => return Err(type_error(&text(), "a number", other.as_ref())),
            },
            ExprTok::Binary(op) => {
                let b = stack.pop();
                let a = stack.pop();
                binary(*op, a, b, &text)?
            }
            ExprTok::Call(f, n) => {
                let at = stack.len().saturating_sub(*n);
                let args: Vec<ArgValue> = stack.drain(at..).collect();
                call(*f, &args, &text)?
            }
            ExprTok::Index => {
                let index = stack.pop();
                let list = stack.pop();
                match (list, index) {
                    (Some(ArgValue::List(items)), Some(ArgValue::Int(i))) => {
                        let found = usize::try_from(i).ok().and_then(|i| items.get(i));
                        match found {
                            Some(v) => v.clone(),
                            None => {
                                return Err(format!(
                                    "`{}`: index {i} is out of range for a list of {} items",
                                    text(),
                                    items.len()
                                ));
                            }
                        }
                    }
                    (Some(ArgValue::List(_)), other) => {
                        return Err(type_error(&text(), "an integer index", other.as_ref()));
                    }
                    (other, _) => return Err(type_error(&text(), "a list", other.as_ref())),
                }
            }
            ExprTok::List(n) | ExprTok::Tuple(n) => {
                let at = stack.len().saturating_sub(*n);
                let items: Vec<ArgValue> = stack.drain(at..).collect();
                match tok {
                    ExprTok::List(_) => ArgValue::List(items.into()),
                    _ => ArgValue::Tuple(items.into()),
                }
            }
        };
        stack.push(value);
    }
    match (stack.pop(), stack.is_empty()) {
        (Some(v), true) => Ok(v),
        _ => Err(format!("`{}` is not an expression", text())),
    }
}

fn describe(v: Option<&ArgValue>) -> String {
    match v {
        Some(ArgValue::Int(n)) => format!("the integer {n}"),
        Some(ArgValue::Float(x)) => format!("the float {x:?}"),
        Some(ArgValue::Bool(b)) => format!("the boolean {b}"),
        Some(ArgValue::List(_)) => "a list".into(),
        Some(ArgValue::Tuple(_)) => "a tuple".into(),
        Some(other) => format!("`{other}`"),
        None => "nothing".into(),
    }
}

fn type_error(text: &str, expected: &str, found: Option<&ArgValue>) -> String {
    format!("`{text}` needs {expected}, found {}", describe(found))
}

fn binary(
    op: BinaryOp,
    a: Option<ArgValue>,
    b: Option<ArgValue>,
    text: &dyn Fn() -> String,
) -> Result<ArgValue, String> {
    let overflow = || format!("`{}` overflows", text());
    match (a, b) {
        (Some(ArgValue::Int(a)), Some(ArgValue::Int(b))) => Ok(ArgValue::Int(match op {
            BinaryOp::Add => a.checked_add(b).ok_or_else(overflow)?,
            BinaryOp::Sub => a.checked_sub(b).ok_or_else(overflow)?,
            BinaryOp::Mul => a.checked_mul(b).ok_or_else(overflow)?,
            BinaryOp::Div | BinaryOp::Rem if b == 0 => {
                return Err(format!("`{}` divides {a} by zero", text()));
            }
            BinaryOp::Div if a % b != 0 => {
                return Err(format!(
                    "`{}` is {a} / {b}, which is not a whole number; integer sizes divide exactly",
                    text()
                ));
            }
            BinaryOp::Div => a.checked_div(b).ok_or_else(overflow)?,
            BinaryOp::Rem => a.checked_rem(b).ok_or_else(overflow)?,
        })),
        (Some(a), Some(b)) => {
            let (Some(x), Some(y)) = (number(&a), number(&b)) else {
                let bad = if number(&a).is_none() { a } else { b };
                return Err(type_error(&text(), "numbers", Some(&bad)));
            };
            let r = match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div => x / y,
                BinaryOp::Rem => x % y,
            };
            if !r.is_finite() {
                return Err(format!("`{}` is not a finite number", text()));
            }
            Ok(ArgValue::Float(r))
        }
        _ => Err(format!("`{}` is missing an operand", text())),
    }
}

fn number(v: &ArgValue) -> Option<f64> {
    match v {
        ArgValue::Int(n) => Some(*n as f64),
        ArgValue::Float(x) => Some(*x),
        _ => None,
    }
}

fn call(f: Func, args: &[ArgValue], text: &dyn Fn() -> String) -> Result<ArgValue, String> {
    match (f, args) {
        (Func::Len, [ArgValue::List(items)]) => Ok(ArgValue::Int(items.len() as i64)),
        (Func::Len, [other]) => Err(type_error(&text(), "a list", Some(other))),
        (Func::Min | Func::Max, [ArgValue::Int(a), ArgValue::Int(b)]) => {
            Ok(ArgValue::Int(if f == Func::Min {
                *a.min(b)
            } else {
                *a.max(b)
            }))
        }
        (Func::Min | Func::Max, [a, b]) => match (number(a), number(b)) {
            (Some(x), Some(y)) => Ok(ArgValue::Float(if f == Func::Min {
                x.min(y)
            } else {
                x.max(y)
            })),
            _ => Err(type_error(
                &text(),
                "numbers",
                Some(if number(a).is_none() { a } else { b }),
            )),
        },
        (Func::Pow, [ArgValue::Int(base), ArgValue::Int(exp)]) => {
            let exp = u32::try_from(*exp)
                .map_err(|_| format!("`{}` needs a non-negative exponent, found {exp}", text()))?;
            base.checked_pow(exp)
                .map(ArgValue::Int)
                .ok_or_else(|| format!("`{}` overflows", text()))
        }
        (Func::Pow, [a, b]) => match (number(a), number(b)) {
            (Some(x), Some(y)) => Ok(ArgValue::Float(x.powf(y))),
            _ => Err(type_error(
                &text(),
                "numbers",
                Some(if number(a).is_none() { a } else { b }),
            )),
        },
        _ => Err(format!(
            "`{}` takes {} argument{}, found {}",
            f.name(),
            f.arity(),
            if f.arity() == 1 { "" } else { "s" },
            args.len()
        )),
    }
}

impl fmt::Display for ExprTok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", display(std::slice::from_ref(self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn p(name: &'static str) -> ExprTok {
        ExprTok::Param(Cow::Borrowed(name))
    }
    fn int(n: i64) -> ExprTok {
        ExprTok::Value(ArgValue::Int(n))
    }
    fn env(name: &str) -> Option<ArgValue> {
        match name {
            "d" => Some(ArgValue::Int(768)),
            "heads" => Some(ArgValue::Int(10)),
            "depths" => Some(ArgValue::List(
                vec![ArgValue::Int(2), ArgValue::Int(3)].into(),
            )),
            _ => None,
        }
    }

    #[test]
    fn evaluates_and_displays() {
        let e = [int(4), p("d"), ExprTok::Binary(BinaryOp::Mul)];
        assert_eq!(eval(&e, &env), Ok(ArgValue::Int(3072)));
        assert_eq!(display(&e), "4 * d");
        let e = [
            p("d"),
            int(2),
            int(1),
            ExprTok::Binary(BinaryOp::Sub),
            ExprTok::Binary(BinaryOp::Sub),
        ];
        assert_eq!(display(&e), "d - (2 - 1)");
        assert_eq!(eval(&e, &env), Ok(ArgValue::Int(767)));
        let e = [p("depths"), int(1), ExprTok::Index];
        assert_eq!(eval(&e, &env), Ok(ArgValue::Int(3)));
        assert_eq!(display(&e), "depths[1]");
        let e = [p("depths"), ExprTok::Call(Func::Len, 1)];
        assert_eq!(eval(&e, &env), Ok(ArgValue::Int(2)));
        let e = [
            ExprTok::Value(ArgValue::Float(1.0)),
            ExprTok::Value(ArgValue::Float(8.0)),
            ExprTok::Binary(BinaryOp::Div),
        ];
        assert_eq!(eval(&e, &env), Ok(ArgValue::Float(0.125)));
    }

    #[test]
    fn reports_inexact_division_overflow_and_range() {
        let e = [p("d"), p("heads"), ExprTok::Binary(BinaryOp::Div)];
        assert_eq!(
            eval(&e, &env).unwrap_err(),
            "`d / heads` is 768 / 10, which is not a whole number; integer sizes divide exactly"
        );
        let e = [int(i64::MAX), int(2), ExprTok::Binary(BinaryOp::Mul)];
        assert!(eval(&e, &env).unwrap_err().contains("overflows"));
        let e = [p("depths"), int(5), ExprTok::Index];
        assert!(eval(&e, &env).unwrap_err().contains("out of range"));
        let e = [p("nope")];
        assert!(eval(&e, &env).is_err());
    }
}

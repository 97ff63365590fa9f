//! The words the generators draw from: the DSL's keywords and punctuation,
//! the catalogue's layers and arguments, extreme numbers, literals of every
//! kind, raw identifiers, paths, attributes and doc comments.

use fastrand::Rng;
use mithril_core::dim::MAX_SIZE;
use mithril_core::graph::MAX_REPEAT;
use mithril_core::layers::CATALOGUE;
use proc_macro2::Delimiter;

use crate::tree::{Tree, trees};

/// Tokens as text, parsed where used (a snippet may be several tokens).
pub fn parse(text: &str) -> Vec<Tree> {
    trees(
        text.parse()
            .unwrap_or_else(|e| panic!("vocabulary `{text}`: {e}")),
    )
}

pub fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    from[rng.usize(..from.len())]
}

const PUNCT: &[&str] = &[
    "->", "=>", ";", ":", "::", ",", "*", "=", "-", "@", "#", "!", "?", "<", ">", "&", ".", "..",
    "$", "+", "/", "|", "'a", "::<", "->", "=>", ";", ",", "*",
];

const WORDS: &[&str] = &[
    "input",
    "output",
    "static",
    "buffer",
    "share",
    "weight",
    "bias",
    "x",
    "y",
    "h",
    "a",
    "b",
    "c",
    "z",
    "B",
    "T",
    "D",
    "N",
    "K",
    "W",
    "H",
    "logits",
    "features",
    "Net",
    "Block",
    "Encoder",
    "Mlp",
    "Inner",
    "pub",
    "fn",
    "let",
    "mod",
    "struct",
    "in",
    "as",
    "true",
    "false",
    "r#type",
    "r#in",
    "r#fn",
    "r#struct",
    "r#match",
    "r#input",
    "r#output",
    "r#Net",
    "self",
    "Self",
    "super",
    "crate",
    "_",
    "__mithril_continue",
    "ü",
    "Δ",
    "数",
    "linear",
    "Linaer",
    "relu",
    "Relu6",
    "model",
    "mithril",
    "Debug",
    "Clone",
    "Default",
    "NetParams",
    "NetInputs",
    "NetOutputs",
    "failed",
    "ok",
    "same",
    "valid",
    "mean",
    "gelu",
    "f",
    "swish",
    "ops",
    "zoo",
    "blocks",
    "_x",
    "x_",
    "__x",
    "X1",
];

const PATHS: &[&str] = &[
    "zoo::Block",
    "zoo::blocks::Mlp",
    "::mithril::model",
    "crate::Block",
    "super::Block",
    "self::Block",
    "blocks::Encoder",
    "ops::swish",
    "::ops::f",
    "a::<T>",
    "Vec<T>",
    "Block<T>",
    "zoo::super",
    "crate::self",
    "r#mod::r#type",
    "a::b::c::d::e::f::g",
    "::x",
    "fc.weight",
    "blocks.0.fc.weight",
    "head.bias",
    "x.0.1",
];

const ATTRS: &[&str] = &[
    "#[doc = \"x\"]",
    "/// A doc comment.",
    "//! An inner doc comment.",
    "#[allow(dead_code)]",
    "#![inner]",
    "#[derive(Clone)]",
    "#[cfg(any())]",
    "#[doc(hidden)]",
    "#[doc = 1]",
    "#[]",
    "pub",
    "pub(crate)",
    "pub(super)",
    "pub(self)",
    "pub(in crate::a)",
    "pub(in)",
];

const GROUPS: &[&str] = &[
    "()",
    "[]",
    "{}",
    "(x, h)",
    "[B, 784]",
    "[B, 4]",
    "(3, 3)",
    "(axis = 1)",
    "(x)",
    "[]",
    "(1)(x)",
    "{ input x: [B, 4]; }",
    "[B, T, D]",
    "(,)",
    "[,]",
    "(=)",
];

const OTHER_LITERALS: &[&str] = &[
    "\"str\"",
    "r\"raw\"",
    "r#\"raw\"#",
    "b\"bytes\"",
    "b'x'",
    "'c'",
    "c\"cstr\"",
    "br\"x\"",
    "'\\u{10FFFF}'",
    "\"\\0\"",
    "\"\"",
    "\"mithril-dsl 0.1.0 signature 1\"",
    "\"mithril-dsl 0.0.0 signature 1\"",
    "\"zoo::Block\"",
    "\"Block\"",
    "\"a\"",
];

/// Integers at and past every limit the macro and core check: sizes,
/// repeats, `i32`, `i64`, `u64`, `u128`, in other bases and with suffixes.
pub fn extreme_int(rng: &mut Rng) -> String {
    let max = MAX_SIZE as u128;
    let repeat = MAX_REPEAT as u128;
    let values: [u128; 22] = [
        0,
        1,
        2,
        3,
        repeat - 1,
        repeat,
        repeat + 1,
        65_535,
        max,
        max + 1,
        u32::MAX as u128,
        u32::MAX as u128 + 1,
        i64::MAX as u128,
        i64::MAX as u128 + 1,
        u64::MAX as u128,
        u64::MAX as u128 + 1,
        u128::MAX,
        max * max,
        1 << 62,
        10u128.pow(30),
        rng.u128(..),
        rng.u64(..) as u128,
    ];
    let v = values[rng.usize(..values.len())];
    match rng.usize(..12) {
        0 => format!("{v:#x}"),
        1 => format!("{:#b}", v as u16),
        2 => format!("{:#o}", v as u32),
        3 => format!(
            "{v}{}",
            pick(rng, &["u8", "i32", "usize", "u128", "i64", "f32"])
        ),
        4 => "99999999999999999999999999999999999999999999999999999999999999999".into(),
        5 => format!("1_{:03}_{:03}", v % 1000, (v / 7) % 1000),
        6 => format!("0{}", v % 1000),
        _ => v.to_string(),
    }
}

/// Floats: overflowing, underflowing, subnormal, the limits of `f32` and
/// `f64`, signed zero, suffixed.
pub fn extreme_float(rng: &mut Rng) -> String {
    let fixed = [
        "0.0",
        "1e999",
        "1e-999",
        "1.7976931348623157e308",
        "1.8e308",
        "3.4028235e38",
        "3.5e38f32",
        "1e38",
        "0.5",
        "1.0f64",
        "2.0e-45",
        "4.9e-324",
        "1e-320",
        "0.",
        "1E10",
        "1e+5",
        "123456789012345678901234567890.5",
        "1_0.0_1",
    ];
    match rng.usize(..4) {
        0 => format!("{:e}", f64::from_bits(rng.u64(..)).abs())
            .replace("inf", "1e999")
            .replace("NaN", "0.0"),
        _ => pick(rng, &fixed).to_string(),
    }
}

/// An identifier, raw identifier, keyword, catalogue name or argument name.
pub fn ident(rng: &mut Rng) -> String {
    match rng.usize(..10) {
        0..=3 => pick(rng, WORDS).to_string(),
        4..=5 => CATALOGUE[rng.usize(..CATALOGUE.len())].name.to_string(),
        6 => {
            let layer = &CATALOGUE[rng.usize(..CATALOGUE.len())];
            match layer.args {
                [] => "x".into(),
                args => args[rng.usize(..args.len())].name.to_string(),
            }
        }
        7 => format!(
            "r#{}",
            pick(
                rng,
                &["type", "in", "loop", "dyn", "async", "x", "Net", "Linear"]
            )
        ),
        8 => "x".repeat(rng.usize(1..2000)),
        _ => format!(
            "{}{}",
            pick(rng, &["x", "h", "fc", "Block", "n"]),
            rng.usize(..100)
        ),
    }
}

/// A value for a layer argument: numbers, words, tuples, shapes, paths,
/// and some that no argument takes.
pub fn arg_value(rng: &mut Rng) -> String {
    match rng.usize(..16) {
        0..=3 => ["1", "2", "3", "4", "8", "16", "64", "128", "0", "-1", "-2"][rng.usize(..11)]
            .to_string(),
        4 => extreme_int(rng),
        5 => format!("-{}", extreme_int(rng)),
        6 => extreme_float(rng),
        7 => ["0.1", "0.5", "1.0", "-0.0", "1e-5", "0.25"][rng.usize(..6)].to_string(),
        8 => [
            "true", "false", "same", "valid", "mean", "sum", "max", "none", "gelu", "relu",
            "causal",
        ][rng.usize(..11)]
        .to_string(),
        9 => {
            let layer = &CATALOGUE[rng.usize(..CATALOGUE.len())];
            let defaults: Vec<String> = layer
                .args
                .iter()
                .filter_map(|a| a.default_value().map(ToString::to_string))
                .collect();
            match defaults.as_slice() {
                [] => "1".into(),
                d => d[rng.usize(..d.len())].clone(),
            }
        }
        10 => format!("({}, {})", arg_value(rng), arg_value(rng)),
        11 => format!("[{}, {}]", ident(rng), arg_value(rng)),
        12 => pick(rng, PATHS).to_string(),
        13 => pick(rng, OTHER_LITERALS).to_string(),
        14 => pick(
            rng,
            &[
                "x + 1", "f(x)", "{ 1 }", "|x| x", "[1; 4]", "x.y", "&x", "-x", "-(1)", "!true",
                "()", "(1,)", "[]", "1..2", "x as u8",
            ],
        )
        .to_string(),
        _ => ident(rng),
    }
}

/// One vocabulary item, as text.
pub fn snippet(rng: &mut Rng) -> String {
    match rng.usize(..20) {
        0..=5 => pick(rng, PUNCT).to_string(),
        6..=9 => ident(rng),
        10 => pick(rng, PATHS).to_string(),
        11 => pick(rng, ATTRS).to_string(),
        12 => pick(rng, GROUPS).to_string(),
        13 => extreme_int(rng),
        14 => extreme_float(rng),
        15 => pick(rng, OTHER_LITERALS).to_string(),
        16 => CATALOGUE[rng.usize(..CATALOGUE.len())].name.to_string(),
        17 => format!(
            "{}({})",
            CATALOGUE[rng.usize(..CATALOGUE.len())].name,
            arg_value(rng)
        ),
        18 => pick(rng, &["input", "output", "->", "=>", ";"]).to_string(),
        _ => pick(rng, &["1", "2", "4", "784", "B"]).to_string(),
    }
}

/// A delimiter, invisible ones (`$x` from `macro_rules!`) included.
pub fn delimiter(rng: &mut Rng) -> Delimiter {
    [
        Delimiter::Parenthesis,
        Delimiter::Bracket,
        Delimiter::Brace,
        Delimiter::None,
    ][rng.usize(..4)]
}

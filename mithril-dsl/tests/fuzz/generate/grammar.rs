//! Models written by the grammar.

use fastrand::Rng;
use mithril_core::layers::{Arity, CATALOGUE};

use crate::vocab::{self, pick};

const MODEL_NAMES: &[&str] = &[
    "Net",
    "Block",
    "Encoder",
    "Inner",
    "Head",
    "Stem",
    "r#type",
    "Mlp",
    "Net",
    "Linear",
    "Debug",
    "NetParams",
    "ü",
];

/// Paths to models of other blocks.
pub const EXTERNAL: &[&str] = &[
    "zoo::Block",
    "zoo::blocks::Mlp",
    "blocks::Encoder",
    "super::Block",
    "crate::Head",
    "self::Stem",
    "Residual",
    "Scale",
    "Widen",
    "::zoo::Mlp",
    "a::b::c::Inner",
];

/// A block of models written by the grammar, with random layers, arguments,
/// shapes, names and repeats, and models of the block or of other blocks
/// as layers. Some are coherent (every shape fits, so they expand fully),
/// some are chains of models that each use the next (nesting multiplies).
pub fn block(rng: &mut Rng) -> String {
    if rng.usize(..300) == 0 {
        return chain(rng);
    }
    if rng.usize(..4) == 0 {
        return family_block(rng);
    }
    let count = match rng.usize(..10) {
        0..=5 => 1,
        6..=8 => rng.usize(2..4),
        _ => rng.usize(4..9),
    };
    let coherent = rng.usize(..5) < 2;
    let names: Vec<String> = if coherent {
        // Distinct names, so that the block checks.
        (0..count)
            .map(|i| format!("{}{i}", pick(rng, &["Net", "Block", "Stem", "r#type"])))
            .collect()
    } else {
        (0..count)
            .map(|_| pick(rng, MODEL_NAMES).to_string())
            .collect()
    };
    let mut out = String::new();
    for i in 0..names.len() {
        // Models use the models after them (a coherent block has no cycle).
        let others: Vec<&str> = names[i + usize::from(coherent)..]
            .iter()
            .map(String::as_str)
            .collect();
        out += &if coherent {
            coherent_model(rng, &names[i], &others)
        } else {
            model(rng, &names[i], &others)
        };
    }
    out
}

/// Stages that take and give `[B, 4]`-like shapes, so that a model of them checks.
const FITTING: &[&str] = &[
    "Linear(4)",
    "Relu",
    "Tanh",
    "Gelu",
    "Sigmoid",
    "Silu",
    "Dropout(0.1)",
    "LayerNorm",
    "RmsNorm",
    "Softmax",
    "Linear(4, bias = false)",
    "LeakyRelu(0.2)",
    "Exp",
    "Abs",
    "Square",
    "Clip(-1, 1)",
    "StopGradient",
    "RobustSqrt",
    "fc: Linear(4)",
    "Linear(4) * 3",
    "Relu * 2",
];

/// A model whose shapes fit: inputs `[B, 4]`, stages from [`FITTING`] or
/// models of the block, heads that add values, every value used.
fn coherent_model(rng: &mut Rng, name: &str, others: &[&str]) -> String {
    let mut out = format!(
        "{}{name} {{\n",
        pick(rng, &["", "pub ", "pub(crate) ", "/// Docs.\n"])
    );
    let inputs: Vec<String> = ["x", "r#in"][..rng.usize(1..3)]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let decls: Vec<String> = inputs.iter().map(|i| format!("{i}: [B, 4]")).collect();
    out += &format!("input {};\n", decls.join(", "));
    let mut values = inputs.clone();
    // Values not used yet: each becomes a head, or an output.
    let mut unused = inputs;
    let take = |rng: &mut Rng, values: &[String], unused: &mut Vec<String>| -> String {
        if unused.is_empty() || rng.usize(..4) == 0 {
            values[rng.usize(..values.len())].clone()
        } else {
            unused.remove(rng.usize(..unused.len()))
        }
    };
    for f in 0..rng.usize(1..5) {
        let mut flow = if rng.usize(..4) == 0 {
            let a = take(rng, &values, &mut unused);
            let b = take(rng, &values, &mut unused);
            unused.retain(|u| *u != a && *u != b);
            format!("Add({a}, {b})")
        } else if rng.usize(..6) == 0 {
            // A number as an operand, either side.
            let a = take(rng, &values, &mut unused);
            unused.retain(|u| *u != a);
            let layer = pick(rng, &["Multiply", "Maximum", "Divide", "Subtract", "Power"]);
            let n = pick(rng, &["0.5", "2", "-1", "1e-3"]);
            if rng.bool() {
                format!("{layer}({a}, {n})")
            } else {
                format!("{layer}({n}, {a})")
            }
        } else {
            let v = take(rng, &values, &mut unused);
            unused.retain(|u| *u != v);
            v
        };
        for _ in 0..rng.usize(usize::from(!flow.ends_with(')'))..5) {
            flow += " -> ";
            if !others.is_empty() && rng.usize(..4) == 0 {
                flow += others[rng.usize(..others.len())];
                if rng.usize(..4) == 0 {
                    flow += &format!(" * {}", pick(rng, &["2", "3", "2", "3", "64", "4096"]));
                }
            } else {
                flow += pick(rng, FITTING);
            }
        }
        let target = format!("h{f}");
        out += &format!("{flow} => {target};\n");
        values.push(target.clone());
        unused.push(target);
    }
    out += &format!("output {};\n}}\n", unused.join(", "));
    out
}

/// Models that each use the next once or more, repeated or not: the
/// number of parameter arrays grows with the product along the chain.
fn chain(rng: &mut Rng) -> String {
    let n = rng.usize(2..40);
    let mut out = String::new();
    for i in 0..n {
        let mut stages = Vec::new();
        for _ in 0..rng.usize(1..4) {
            let mut stage = if i + 1 < n {
                format!("C{}", i + 1)
            } else {
                "Linear(4)".into()
            };
            if rng.usize(..3) == 0 {
                stage += &format!(" * {}", pick(rng, &["2", "3", "16", "4096"]));
            }
            stages.push(stage);
        }
        out += &format!(
            "C{i} {{ input x: [B, 4]; x -> {} => y; output y; }}\n",
            stages.join(" -> ")
        );
    }
    out
}

fn model(rng: &mut Rng, name: &str, others: &[&str]) -> String {
    let mut out = String::new();
    match rng.usize(..8) {
        0 => out += "/// A model.\n",
        1 => out += "#[doc = \"docs\"] ",
        _ => {}
    }
    out += pick(rng, &["", "", "pub ", "pub(crate) ", "pub(super) "]);
    out += name;
    out += " {\n";
    let mut values: Vec<String> = Vec::new();
    // Inputs.
    let mut decls = Vec::new();
    for k in 0..rng.usize(1..4) {
        let input = match rng.usize(..10) {
            0 => vocab::ident(rng),
            _ => ["x", "y", "mask"][k].to_string(),
        };
        let dims: Vec<String> = (0..rng.usize(0..5)).map(|_| dim(rng)).collect();
        decls.push(format!("{input}: [{}]", dims.join(", ")));
        values.push(input);
    }
    out += &format!("input {};\n", decls.join(", "));
    // Inputs kept out of gradients, and buffers with or without a value.
    if rng.usize(..6) == 0 {
        let dims: Vec<String> = (0..rng.usize(0..4)).map(|_| dim(rng)).collect();
        out += &format!("static s: [{}];\n", dims.join(", "));
        values.push("s".into());
    }
    if rng.usize(..6) == 0 {
        let dims: Vec<String> = (0..rng.usize(0..4)).map(|_| dim(rng)).collect();
        let value = match rng.usize(..3) {
            0 => String::new(),
            1 => format!(" = {}", number(rng)),
            _ => format!(" = {}", vocab::arg_value(rng)),
        };
        out += &format!("buffer c: [{}]{value};\n", dims.join(", "));
        values.push("c".into());
    }
    // Flows.
    let multi: Vec<&mithril_core::layers::LayerInfo> = CATALOGUE
        .iter()
        .filter(|l| !matches!(l.inputs, Arity::Exactly(1)))
        .collect();
    for f in 0..rng.usize(1..6) {
        let target = format!("{}{f}", pick(rng, &["h", "y", "r#type", "z"]));
        let mut flow = String::new();
        if rng.usize(..4) == 0 && !multi.is_empty() {
            let layer = multi[rng.usize(..multi.len())];
            let ins: Vec<String> = (0..rng.usize(1..4)).map(|_| value(rng, &values)).collect();
            flow += layer.name;
            if !layer.args.is_empty() && rng.bool() {
                flow += &format!("({})", args(rng, layer));
            }
            flow += &format!("({})", ins.join(", "));
        } else {
            flow += &value(rng, &values);
        }
        for _ in 0..rng.usize(usize::from(flow.ends_with(')'))..7) {
            flow += " -> ";
            flow += &stage(rng, others);
        }
        flow += &format!(" => {target};\n");
        out += &flow;
        values.push(target);
    }
    // Shared parameters: paths of layers named by `stage`, or not.
    if rng.usize(..6) == 0 {
        let path = |rng: &mut Rng| -> String {
            let layer = pick(
                rng,
                &["fc", "fc1", "head", "blocks.0.fc", "linear_0", "x", "c"],
            );
            format!(
                "{layer}.{}",
                pick(rng, &["weight", "bias", "0", "running_mean", "w"])
            )
        };
        out += &format!("share {} = {};\n", path(rng), path(rng));
    }
    // Outputs.
    let outputs: Vec<String> = match rng.usize(..10) {
        0 => Vec::new(),
        1..=7 => vec![values.last().cloned().unwrap_or_default()],
        _ => (0..rng.usize(1..4)).map(|_| value(rng, &values)).collect(),
    };
    if !outputs.is_empty() || rng.bool() {
        out += &format!("output {};\n", outputs.join(", "));
    }
    out += "}\n";
    out
}

fn dim(rng: &mut Rng) -> String {
    match rng.usize(..10) {
        0..=3 => pick(rng, &["B", "T", "D", "N", "r#in", "B"]).to_string(),
        4..=8 => pick(rng, &["1", "2", "3", "4", "8", "16", "28", "64", "784"]).to_string(),
        _ => vocab::extreme_int(rng),
    }
}

/// A number as an operand: typed at the model's dtype.
fn number(rng: &mut Rng) -> String {
    match rng.usize(..4) {
        0 => vocab::extreme_int(rng),
        1 => vocab::extreme_float(rng),
        _ => pick(rng, &["0.5", "2", "-1", "0", "1e-3", "-0.0"]).to_string(),
    }
}

fn value(rng: &mut Rng, values: &[String]) -> String {
    if rng.usize(..10) == 0 || values.is_empty() {
        vocab::ident(rng)
    } else if rng.usize(..8) == 0 {
        number(rng)
    } else {
        values[rng.usize(..values.len())].clone()
    }
}

/// A pipeline stage: `[name:] Layer[(args)] [* N]`.
fn stage(rng: &mut Rng, others: &[&str]) -> String {
    let mut out = String::new();
    if rng.usize(..4) == 0 {
        out += &format!(
            "{}: ",
            pick(
                rng,
                &[
                    "fc", "fc1", "r#type", "linear_0", "linear0", "head", "blocks", "self", "NetFc"
                ]
            )
        );
    }
    match rng.usize(..12) {
        0 if !others.is_empty() => out += others[rng.usize(..others.len())],
        1 => out += pick(rng, EXTERNAL),
        _ => {
            let layer = &CATALOGUE[rng.usize(..CATALOGUE.len())];
            out += layer.name;
            if !layer.args.is_empty() || rng.usize(..10) == 0 {
                out += &format!("({})", args(rng, layer));
            }
        }
    }
    if rng.usize(..8) == 0 {
        out += &format!(
            " * {}",
            match rng.usize(..6) {
                0..=2 => pick(rng, &["1", "2", "3", "4"]).to_string(),
                3 => pick(rng, &["4096", "4097", "0", "64"]).to_string(),
                _ => vocab::extreme_int(rng),
            }
        );
    }
    out
}

/// Arguments for a layer: its required ones, some optional ones, by
/// position or name, with values of every kind; sometimes unknown ones.
fn args(rng: &mut Rng, layer: &mithril_core::layers::LayerInfo) -> String {
    let mut out = Vec::new();
    let mut named = false;
    for arg in layer.args {
        let include = if arg.is_required() {
            rng.usize(..10) != 0
        } else {
            rng.usize(..3) == 0
        };
        if !include {
            named = true;
            continue;
        }
        let value = match rng.usize(..3) {
            0 => arg
                .default_value()
                .map(ToString::to_string)
                .unwrap_or_else(|| sensible(rng)),
            1 => sensible(rng),
            _ => vocab::arg_value(rng),
        };
        named |= rng.usize(..3) == 0;
        out.push(if named {
            format!("{} = {value}", arg.name)
        } else {
            value
        });
    }
    if rng.usize(..10) == 0 {
        out.push(format!("{} = {}", vocab::ident(rng), vocab::arg_value(rng)));
    }
    if rng.usize(..20) == 0 {
        out.push(vocab::arg_value(rng));
    }
    out.join(", ")
}

fn sensible(rng: &mut Rng) -> String {
    pick(
        rng,
        &[
            "1",
            "2",
            "3",
            "4",
            "8",
            "16",
            "32",
            "0.1",
            "0.5",
            "true",
            "false",
            "(3, 3)",
            "(2, 2)",
            "same",
            "-1",
            "[B, 4]",
            "ops::swish",
            "f",
        ],
    )
    .to_string()
}

/// A block with model families: parameters with and without defaults (of
/// every type, sometimes of a type that does not exist), expressions where
/// numbers go (some that divide inexactly, overflow or read names that are
/// no parameter), repeats and loops counted by parameters, constants of the
/// block, a model with two outputs bound by name, and instances and uses
/// with arguments that fit or not.
fn family_block(rng: &mut Rng) -> String {
    let mut out = String::new();
    if rng.bool() {
        out += &format!(
            "const W: usize = {};\n",
            pick(rng, &["4", "8", "2 * 4", "0", "1.5"])
        );
    }
    let ty = |rng: &mut Rng| {
        pick(
            rng,
            &[
                "usize", "usize", "f64", "bool", "Layer", "[usize]", "[Layer]", "u8",
            ],
        )
    };
    let default = |rng: &mut Rng, ty: &str| -> String {
        match (rng.usize(..4), ty) {
            (0, _) => String::new(),
            (_, "usize") => format!(" = {}", pick(rng, &["4", "8", "2", "0", "W"])),
            (_, "f64") => format!(" = {}", pick(rng, &["0.5", "1", "-2e-3"])),
            (_, "bool") => " = true".into(),
            (_, "Layer") => format!(" = {}", pick(rng, &["Relu", "Gelu", "Tanh", "LayerNorm"])),
            (_, "[usize]") => format!(" = {}", pick(rng, &["[4, 8]", "[4]", "[]", "[4, 2.5]"])),
            (_, "[Layer]") => format!(" = {}", pick(rng, &["[Relu, Tanh]", "[Relu]", "[]"])),
            _ => " = 1".into(),
        }
    };
    let mut params = vec![format!("d: usize{}", default(rng, "usize"))];
    for name in ["k", "acts", "dims", "act", "scale"] {
        if rng.bool() {
            let t = match name {
                "acts" => "[Layer]",
                "dims" => "[usize]",
                "act" => "Layer",
                "scale" => "f64",
                _ => ty(rng),
            };
            params.push(format!("{name}: {t}{}", default(rng, t)));
        }
    }
    let has = |p: &str| params.iter().any(|q| q.starts_with(&format!("{p}:")));
    let size = |rng: &mut Rng| {
        pick(
            rng,
            &[
                "d",
                "4",
                "2 * d",
                "d / 2",
                "d - 4",
                "d % 3 + 1",
                "min(d, 4)",
                "pow(2, 2)",
                "W",
                "X",
            ],
        )
        .to_string()
    };
    let mut body = vec![format!(
        "input x: [B, {}];",
        pick(rng, &["d", "d", "4 * d", "d + 0"])
    )];
    let mut stage = String::from("x");
    for _ in 0..rng.usize(1..4) {
        stage += &match rng.usize(..7) {
            0 if has("act") => " -> act".into(),
            1 if has("dims") => {
                let act = if has("acts") { " -> acts[i]" } else { "" };
                format!(" -> for i in 0..len(dims) {{ layers: Linear(dims[i]){act} }} -> Linear(d)")
            }
            2 if has("scale") => " -> Multiply(scale)".into(),
            3 => format!(" -> Linear({}) -> Linear(d)", size(rng)),
            4 => format!(
                " -> blocks: Linear(d) * {}",
                pick(rng, &["d", "2", "(d - 3)", "k"])
            ),
            5 => format!(" -> Reshape([B, {}, {}]) -> Flatten", size(rng), size(rng)),
            _ => " -> Relu".into(),
        };
    }
    body.push(format!("{stage} => y;"));
    body.push("output y;".into());
    out += &format!(
        "pub Fam({}) {{\n{}\n}}\n",
        params.join(", "),
        body.join("\n")
    );
    if rng.bool() {
        out += "Pair { input x: [B, 4]; x -> a: Linear(4) => first; x -> Tanh => second; output first, second; }\n";
        let bind = pick(
            rng,
            &[
                "{ first, second }",
                "{ first: f, second }",
                "{ firts: f }",
                "{ first, first }",
                "y",
            ],
        );
        out += &format!(
            "UsesPair {{ input x: [B, 4]; x -> Pair => {bind}; Add(first, second) => z; output z; }}\n"
        );
    }
    for i in 0..rng.usize(1..4) {
        let args: Vec<String> = (0..rng.usize(0..4))
            .map(|_| {
                let name = pick(rng, &["d", "k", "dims", "acts", "act", "scale", "dd", ""]);
                let value = pick(
                    rng,
                    &[
                        "4", "8", "0", "1.5", "[4, 8]", "[Relu]", "Relu", "true", "W", "-1",
                    ],
                );
                match name {
                    "" => value.to_string(),
                    n => format!("{n} = {value}"),
                }
            })
            .collect();
        if rng.bool() {
            out += &format!("I{i} = Fam({});\n", args.join(", "));
        } else {
            out += &format!(
                "U{i} {{ input x: [B, 8]; x -> Fam({}) => y; output y; }}\n",
                args.join(", ")
            );
        }
    }
    out
}

//! The generators: random token streams, mutations of the workspace's
//! models, models generated from the grammar, and the second step of a
//! block that uses models of other blocks.

use fastrand::Rng;
use mithril_core::layers::{Arity, CATALOGUE};
use proc_macro2::{Delimiter, Punct, Spacing, TokenStream, TokenTree};

use crate::harness::Sink;
use crate::tree::{self, Tree, is_arrow, stream, trees};
use crate::vocab::{self, parse, pick};

/// What the generators draw on.
pub struct Pools {
    /// The workspace's model blocks, as text.
    pub seeds: Vec<String>,
    /// Signatures (`{ "mithril-dsl .." ok Name { .. } .. }`) from their expansions.
    pub signatures: Vec<String>,
    pub seed: u64,
}

/// The random state of case `case` of a run: independent of the order
/// cases run in, so any case can be run alone.
pub fn rng(seed: u64, case: u64) -> Rng {
    // splitmix64 of the pair.
    let mut z = seed ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    Rng::with_seed(z ^ (z >> 31))
}

/// Builds case `case` and hands its inputs to `sink`; returns its kind.
pub fn case(pools: &Pools, case: u64, sink: &mut dyn Sink) -> &'static str {
    let mut rng = rng(pools.seed, case);
    match rng.usize(..100) {
        0..20 => {
            let _ = sink.check(stream(&random_stream(&mut rng)));
            "random tokens"
        }
        20..55 => {
            let mut list = seed(&mut rng, pools);
            mutate_some(&mut rng, &mut list, pools);
            let _ = sink.check(stream(&list));
            "mutated workspace model"
        }
        55..80 => {
            let mut list = parse(&block(&mut rng));
            if rng.bool() {
                mutate_some(&mut rng, &mut list, pools);
            }
            let _ = sink.check(stream(&list));
            "generated model"
        }
        _ => {
            continuation(&mut rng, pools, sink);
            "second step"
        }
    }
}

fn seed(rng: &mut Rng, pools: &Pools) -> Vec<Tree> {
    parse(&pools.seeds[rng.usize(..pools.seeds.len())])
}

// ---------------------------------------------------------------- random

/// Tokens from the vocabulary, in groups, sometimes shaped like a model.
pub fn random_stream(rng: &mut Rng) -> Vec<Tree> {
    let len = match rng.usize(..10) {
        0..=5 => rng.usize(..12),
        6..=8 => rng.usize(..60),
        _ => rng.usize(..300),
    };
    match rng.usize(..10) {
        0..=3 => random_list(rng, len, 0),
        4..=7 => {
            // `Name { tokens }`, perhaps several.
            let mut out = Vec::new();
            for _ in 0..rng.usize(1..3) {
                if rng.usize(..4) == 0 {
                    out.extend(parse(&vocab::snippet(rng)));
                }
                out.extend(parse(&vocab::ident(rng)));
                let body = random_list(rng, len, 0);
                out.push(Tree::Group(Delimiter::Brace, body));
            }
            out
        }
        _ => {
            // `Name { tokens; tokens; .. }`
            let mut body = Vec::new();
            for _ in 0..rng.usize(1..8) {
                let len = rng.usize(..10);
                body.extend(random_list(rng, len, 0));
                body.extend(parse(";"));
            }
            let mut out = parse(&vocab::ident(rng));
            out.push(Tree::Group(Delimiter::Brace, body));
            out
        }
    }
}

fn random_list(rng: &mut Rng, len: usize, depth: usize) -> Vec<Tree> {
    let mut out = Vec::new();
    while out.len() < len {
        match rng.usize(..100) {
            0..70 => out.extend(parse(&vocab::snippet(rng))),
            70..88 if depth < 5 => {
                let len = rng.usize(..8);
                let inner = random_list(rng, len, depth + 1);
                out.push(Tree::Group(delimiter(rng), inner));
            }
            _ => out.extend(parse(&vocab::arg_value(rng))),
        }
    }
    out
}

fn delimiter(rng: &mut Rng) -> Delimiter {
    [
        Delimiter::Parenthesis,
        Delimiter::Bracket,
        Delimiter::Brace,
        Delimiter::None,
    ][rng.usize(..4)]
}

// ---------------------------------------------------------------- grammar

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

const EXTERNAL: &[&str] = &[
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

fn value(rng: &mut Rng, values: &[String]) -> String {
    if rng.usize(..10) == 0 || values.is_empty() {
        vocab::ident(rng)
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
        let include = if arg.default.is_none() {
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
                .default
                .map(str::to_string)
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

// ---------------------------------------------------------------- mutations

/// One to six mutations; a few cases get a very long pipeline, deep
/// nesting or a long run of one token (`- - - x`, `<T<T<..`).
pub fn mutate_some(rng: &mut Rng, list: &mut Vec<Tree>, pools: &Pools) {
    if rng.usize(..200) == 0 {
        match rng.usize(..3) {
            0 => long_pipeline(rng, list),
            1 => deep_nesting(rng, list),
            _ => token_run(rng, list),
        }
        return;
    }
    for _ in 0..rng.usize(1..7) {
        mutate(rng, list, pools);
    }
}

/// A random tree's path, if there is one.
fn any_tree(rng: &mut Rng, list: &[Tree]) -> Option<Vec<usize>> {
    let n = tree::count(list);
    (n > 0).then(|| tree::path_of(list, rng.usize(..n)).expect("in range"))
}

fn any_of(rng: &mut Rng, paths: Vec<Vec<usize>>) -> Option<Vec<usize>> {
    (!paths.is_empty()).then(|| paths[rng.usize(..paths.len())].clone())
}

/// Replaces the tree at `path` with `with`.
fn replace(list: &mut Vec<Tree>, path: &[usize], with: Vec<Tree>) {
    let (last, groups) = path.split_last().expect("a path is never empty");
    tree::list_at(list, groups).splice(*last..=*last, with);
}

fn mutate(rng: &mut Rng, list: &mut Vec<Tree>, pools: &Pools) {
    match rng.usize(..14) {
        // Drop a token or group.
        0 | 1 => {
            if let Some(path) = any_tree(rng, list) {
                replace(list, &path, Vec::new());
            }
        }
        // Duplicate one, once or many times.
        2 => {
            if let Some(path) = any_tree(rng, list) {
                let (last, groups) = path.split_last().unwrap();
                let l = tree::list_at(list, groups);
                let copies = if rng.usize(..10) == 0 {
                    rng.usize(2..50)
                } else {
                    1
                };
                let t = l[*last].clone();
                for _ in 0..copies {
                    l.insert(*last, t.clone());
                }
            }
        }
        // Swap two trees of a list (often neighbours).
        3 => {
            let lists = tree::lists(list);
            let groups = &lists[rng.usize(..lists.len())];
            let l = tree::list_at(list, groups);
            if l.len() >= 2 {
                let i = rng.usize(..l.len());
                let j = if rng.bool() {
                    (i + 1) % l.len()
                } else {
                    rng.usize(..l.len())
                };
                l.swap(i, j);
            }
        }
        // Insert a word of the vocabulary.
        4 | 5 => {
            let lists = tree::lists(list);
            let groups = &lists[rng.usize(..lists.len())];
            let l = tree::list_at(list, groups);
            let at = rng.usize(..=l.len());
            l.splice(at..at, parse(&vocab::snippet(rng)));
        }
        // Replace a tree by a word of the vocabulary.
        6 => {
            if let Some(path) = any_tree(rng, list) {
                replace(list, &path, parse(&vocab::snippet(rng)));
            }
        }
        // A number becomes an extreme one.
        7 | 8 => {
            let literals = tree::find(list, &|t| matches!(t, Tree::Token(TokenTree::Literal(_))));
            if let Some(path) = any_of(rng, literals) {
                let text = if rng.usize(..3) == 0 {
                    vocab::extreme_float(rng)
                } else {
                    vocab::extreme_int(rng)
                };
                let mut with = parse(&text);
                if rng.usize(..4) == 0 {
                    with.insert(
                        0,
                        Tree::Token(TokenTree::Punct(Punct::new('-', Spacing::Alone))),
                    );
                }
                replace(list, &path, with);
            }
        }
        // An identifier becomes another: raw, a keyword, a layer, a name of the model.
        9 => {
            let idents = tree::find(list, &|t| matches!(t, Tree::Token(TokenTree::Ident(_))));
            if let Some(path) = any_of(rng, idents.clone()) {
                let with = if rng.bool() {
                    parse(&vocab::ident(rng))
                } else {
                    let other = &idents[rng.usize(..idents.len())];
                    let (last, groups) = other.split_last().unwrap();
                    vec![tree::list_at(list, groups)[*last].clone()]
                };
                replace(list, &path, with);
            }
        }
        // Wrap a run of trees in a group, or open one, or change its delimiter.
        10 => {
            let lists = tree::lists(list);
            let groups = &lists[rng.usize(..lists.len())];
            let l = tree::list_at(list, groups);
            let start = rng.usize(..=l.len());
            let end = rng.usize(start..=l.len().min(start + 6));
            let inner: Vec<Tree> = l.drain(start..end).collect();
            l.insert(start, Tree::Group(delimiter(rng), inner));
        }
        11 => {
            let groups = tree::find(list, &|t| matches!(t, Tree::Group(..)));
            if let Some(path) = any_of(rng, groups) {
                let (last, parents) = path.split_last().unwrap();
                let l = tree::list_at(list, parents);
                if rng.bool() {
                    if let Tree::Group(_, inner) = l.remove(*last) {
                        l.splice(*last..*last, inner);
                    }
                } else if let Tree::Group(d, _) = &mut l[*last] {
                    *d = delimiter(rng);
                }
            }
        }
        // Joint punctuation split, or separate punctuation joined.
        12 => {
            let puncts = tree::find(list, &|t| matches!(t, Tree::Token(TokenTree::Punct(_))));
            if let Some(path) = any_of(rng, puncts) {
                let (last, groups) = path.split_last().unwrap();
                let l = tree::list_at(list, groups);
                if let Tree::Token(TokenTree::Punct(p)) = &l[*last] {
                    let spacing = match p.spacing() {
                        Spacing::Joint => Spacing::Alone,
                        Spacing::Alone => Spacing::Joint,
                    };
                    let mut flipped = Punct::new(p.as_char(), spacing);
                    flipped.set_span(p.span());
                    l[*last] = Tree::Token(TokenTree::Punct(flipped));
                }
            }
        }
        // A piece of another model of the workspace.
        _ => {
            let donor = seed(rng, pools);
            if let Some(path) = any_tree(rng, &donor) {
                let (last, groups) = path.split_last().unwrap();
                let mut donor = donor;
                let piece = tree::list_at(&mut donor, groups)[*last].clone();
                let lists = tree::lists(list);
                let at_groups = &lists[rng.usize(..lists.len())];
                let l = tree::list_at(list, at_groups);
                let at = rng.usize(..=l.len());
                l.insert(at, piece);
            }
        }
    }
}

/// A pipeline stage (`-> stage`) repeated hundreds or thousands of times.
pub fn long_pipeline(rng: &mut Rng, list: &mut Vec<Tree>) {
    let mut arrows = Vec::new();
    for groups in tree::lists(list) {
        let l = tree::list_at(list, &groups);
        for i in 0..l.len() {
            if is_arrow(l, i, '-') {
                arrows.push((groups.clone(), i));
            }
        }
    }
    if arrows.is_empty() {
        return;
    }
    let (groups, i) = arrows.swap_remove(rng.usize(..arrows.len()));
    let l = tree::list_at(list, &groups);
    let mut end = i + 2;
    while end < l.len()
        && !is_arrow(l, end, '-')
        && !is_arrow(l, end, '=')
        && !crate::tree::is_punct(&l[end], ';')
    {
        end += 1;
    }
    let stage: Vec<Tree> = l[i..end].to_vec();
    let copies = rng.usize(100..3000);
    let repeated: Vec<Tree> = (0..copies).flat_map(|_| stage.iter().cloned()).collect();
    l.splice(end..end, repeated);
}

/// A token (or a vocabulary word) repeated hundreds or thousands of times.
pub fn token_run(rng: &mut Rng, list: &mut Vec<Tree>) {
    let lists = tree::lists(list);
    let groups = &lists[rng.usize(..lists.len())];
    let l = tree::list_at(list, groups);
    let at = rng.usize(..=l.len());
    let word = match l.get(at) {
        Some(t @ Tree::Token(_)) if rng.bool() => vec![t.clone()],
        _ => parse(pick(
            rng,
            &[
                "-", "!", "&", "*", "<T", "|x|", "return", "..", "a =", "x ->", "#[a]", "4 as",
                "::a",
            ],
        )),
    };
    let copies = rng.usize(50..3000);
    l.splice(at..at, (0..copies).flat_map(|_| word.iter().cloned()));
}

/// A tree wrapped in tens to a thousand groups.
pub fn deep_nesting(rng: &mut Rng, list: &mut Vec<Tree>) {
    let Some(path) = any_tree(rng, list) else {
        return;
    };
    let (last, groups) = path.split_last().unwrap();
    let l = tree::list_at(list, groups);
    let mut t = l[*last].clone();
    let depth = rng.usize(10..=crate::MAX_DEPTH);
    let delim = delimiter(rng);
    for _ in 0..depth {
        t = Tree::Group(
            if rng.usize(..8) == 0 {
                delimiter(rng)
            } else {
                delim
            },
            vec![t],
        );
    }
    l[*last] = t;
}

// ---------------------------------------------------------------- two steps

/// A block that names models of other blocks: its first step (checked),
/// then its second step as the signature macros would call it, with
/// signatures from the workspace's models or from a generated block
/// (itself checked first), sometimes wrong, sometimes mutated.
fn continuation(rng: &mut Rng, pools: &Pools, sink: &mut dyn Sink) {
    let mut signatures: Vec<String> = pools.signatures.clone();
    if rng.bool() {
        // A generated block's signatures.
        let generated = parse(&block(rng));
        let Ok(output) = sink.check(stream(&generated)) else {
            return;
        };
        signatures.extend(signature_groups(&output).iter().map(|s| s.to_string()));
    }
    let first = if rng.bool() {
        seed(rng, pools)
    } else {
        let mut b = block(rng);
        // Make sure it names a model of another block.
        b = b.replacen(" -> ", &format!(" -> {} -> ", pick(rng, EXTERNAL)), 1);
        parse(&b)
    };
    let Ok(output) = sink.check(stream(&first)) else {
        return;
    };
    let Some((keys, body)) = callback(&output) else {
        return;
    };
    // `@__mithril_continue [keys] { body } { signature } ...`
    let mut input = parse("@__mithril_continue");
    input.push(keys.clone());
    input.push(body);
    let keys: Vec<String> = match &keys {
        Tree::Group(_, inner) => inner
            .iter()
            .map(|t| stream(std::slice::from_ref(t)).to_string())
            .collect(),
        Tree::Token(_) => Vec::new(),
    };
    for key in &keys {
        let name = key
            .trim_matches('"')
            .rsplit("::")
            .next()
            .unwrap_or_default()
            .to_string();
        let matching: Vec<&String> = signatures
            .iter()
            .filter(|s| s.contains(&format!(" ok {name} ")))
            .collect();
        let signature = match rng.usize(..20) {
            0 => "{ \"mithril-dsl 0.1.0 signature 1\" failed }".to_string(),
            1 => "{ \"mithril-dsl 9.9.9 signature 7\" ok X { } }".to_string(),
            2 => "{ nonsense }".to_string(),
            3 => continue,
            4 => "x".to_string(),
            5..=8 => signatures[rng.usize(..signatures.len())].clone(),
            _ if !matching.is_empty() => matching[rng.usize(..matching.len())].clone(),
            _ => signatures[rng.usize(..signatures.len())].clone(),
        };
        input.extend(parse(&signature));
    }
    if rng.usize(..10) == 0 {
        input.extend(parse(&signatures[rng.usize(..signatures.len())]));
    }
    if rng.usize(..3) == 0 {
        mutate_some(rng, &mut input, pools);
    }
    let _ = sink.check(stream(&input));
}

/// The `[keys]` and `{ body }` after `@__mithril_continue` in a first
/// step's output (in the call of the first signature macro).
fn callback(output: &TokenStream) -> Option<(Tree, Tree)> {
    let mut list = trees(output.clone());
    let at = tree::find(
        &list,
        &|t| matches!(t, Tree::Token(TokenTree::Ident(i)) if i == "__mithril_continue"),
    );
    let (last, groups) = at.first()?.split_last()?;
    let l = tree::list_at(&mut list, groups);
    Some((l.get(last + 1)?.clone(), l.get(last + 2)?.clone()))
}

/// The signatures in an output: groups that start with the format's string.
pub fn signature_groups(output: &TokenStream) -> Vec<TokenStream> {
    let mut found = Vec::new();
    for t in output.clone() {
        if let TokenTree::Group(g) = t {
            let first = g.stream().into_iter().next();
            if matches!(&first, Some(TokenTree::Literal(l)) if l.to_string().starts_with("\"mithril-dsl "))
            {
                found.push(TokenStream::from(TokenTree::Group(g)));
            } else {
                found.extend(signature_groups(&g.stream()));
            }
        }
    }
    found
}

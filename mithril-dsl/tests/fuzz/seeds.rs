//! The models written in the workspace, to mutate: every `model!`
//! invocation in its Rust sources (tests, UI cases, examples, the zoo, the
//! expansion snapshots' inputs) and in the Rust code blocks of its docs.

use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};

/// A model block as text, where it was found, and whether it should expand
/// without errors (it is in a source that compiles).
#[derive(Clone)]
pub struct Seed {
    pub text: String,
    pub origin: String,
    pub valid: bool,
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn collect() -> Vec<Seed> {
    let root = workspace();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut seeds = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let origin = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        let is_rust = origin.ends_with(".rs");
        if is_rust && let Ok(tokens) = text.parse::<TokenStream>() {
            // Sources that compile: UI cases outside `pass/` are meant to
            // fail, and expansion snapshots (never compiled) hold failed
            // models beside valid ones.
            let valid = (!origin.contains("/ui/") || origin.contains("/ui/pass/"))
                && !origin.contains("tests/expand/");
            invocations(tokens, &mut |body| {
                let text = body.to_string();
                let valid = valid && !text.contains('$');
                seeds.push(Seed {
                    text,
                    origin: origin.clone(),
                    valid,
                });
            });
        }
        // Doc comments and markdown: the Rust code blocks.
        let prose: String = if is_rust {
            text.lines()
                .filter_map(|l| {
                    let l = l.trim_start();
                    l.strip_prefix("//!").or_else(|| l.strip_prefix("///"))
                })
                .map(|l| l.strip_prefix(' ').unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            text
        };
        for block in code_blocks(&prose) {
            let Ok(tokens) = block.parse::<TokenStream>() else {
                continue;
            };
            invocations(tokens, &mut |body| {
                seeds.push(Seed {
                    text: body.to_string(),
                    origin: format!("{origin} (docs)"),
                    valid: false,
                });
            });
        }
    }
    seeds
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.')
                && !matches!(name.as_str(), "target" | "build" | "data" | "fixtures")
            {
                walk(&path, out);
            }
        } else if (name.ends_with(".rs") && !name.ends_with(".expanded.rs"))
            || name.ends_with(".md")
        {
            out.push(path);
        }
    }
}

/// The contents of fenced code blocks in Rust (or unmarked).
fn code_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        let fence = line.trim_start().starts_with("```");
        match (&mut current, fence) {
            (None, true) => {
                let info = line.trim_start().trim_start_matches('`');
                if info.is_empty() || info.starts_with("rust") {
                    current = Some(String::new());
                }
            }
            (Some(_), true) => blocks.extend(current.take()),
            (Some(block), false) => {
                // Doc tests hide lines with `# `.
                let line = line.strip_prefix("# ").unwrap_or(line);
                block.push_str(line);
                block.push('\n');
            }
            (None, false) => {}
        }
    }
    blocks
}

/// Calls `f` with the tokens of every `model! { .. }` (or `model!(..)`).
fn invocations(tokens: TokenStream, f: &mut dyn FnMut(TokenStream)) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, t) in trees.iter().enumerate() {
        if let TokenTree::Group(g) = t {
            let after_bang = i >= 2
                && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '!')
                && matches!(&trees[i - 2], TokenTree::Ident(id) if id == "model");
            if after_bang {
                f(g.stream());
            } else {
                invocations(g.stream(), f);
            }
        }
    }
}

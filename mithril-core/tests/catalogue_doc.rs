//! docs/layers.md's reference table is generated from the catalogue, so the
//! documentation cannot drift from the rules. Regenerate with
//! `MITHRIL_REGENERATE_DOCS=1 cargo test -p mithril-core --test catalogue_doc`.
//! docs/dsl.md's shorter, hand-written table is read against the catalogue.

use mithril_core::layers::{Arity, CATALOGUE, info};

const BEGIN: &str = "<!-- catalogue:begin (generated from mithril-core's CATALOGUE) -->";
const END: &str = "<!-- catalogue:end -->";

fn table() -> String {
    let mut out = String::from(
        "| layer | inputs | arguments (default) | shape rule |\n| --- | --- | --- | --- |\n",
    );
    for layer in CATALOGUE {
        let args: Vec<String> = layer
            .args
            .iter()
            .map(|a| format!("{}: {}", a.describe(), a.expects))
            .collect();
        let inputs = match layer.inputs {
            Arity::Exactly(n) => n.to_string(),
            Arity::AtLeast(n) => format!("{n}+"),
        };
        let args = if args.is_empty() {
            "none".to_string()
        } else {
            args.join("<br>")
        };
        out.push_str(&format!(
            "| `{}` | {inputs} | {args} | {} |\n",
            layer.name, layer.summary
        ));
    }
    out
}

#[test]
fn layers_md_matches_the_catalogue() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/layers.md");
    let text = std::fs::read_to_string(&path).expect("docs/layers.md");
    let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        panic!("docs/layers.md lacks the catalogue markers");
    };
    let generated = format!("{BEGIN}\n{}{END}", table());
    let current = &text[start..end + END.len()];
    if std::env::var_os("MITHRIL_REGENERATE_DOCS").is_some() {
        std::fs::write(&path, text.replace(current, &generated)).unwrap();
        return;
    }
    assert_eq!(
        current, generated,
        "docs/layers.md is stale; regenerate (see this file's header)"
    );
}

/// Each default docs/dsl.md's layer table gives (`` `bias = true` ``,
/// `` `stride` (default: the kernel) ``) is the declared default of that
/// argument for every layer of its row that has the argument.
#[test]
fn dsl_md_defaults_are_the_catalogues() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/dsl.md");
    let text = std::fs::read_to_string(&path).expect("docs/dsl.md");
    let start = text
        .find("| layer | arguments (default) | inputs → output |")
        .expect("docs/dsl.md's layer table");
    let mut checked = 0;
    for row in text[start..].lines().skip(2) {
        let Some(row) = row.strip_prefix("| ") else {
            break;
        };
        let cells: Vec<&str> = row.split(" | ").collect();
        let layers: Vec<&str> = cells[0]
            .split('`')
            .skip(1)
            .step_by(2)
            .filter_map(|name| {
                let name = name.split('(').next().unwrap_or(name);
                info(name).map(|l| l.name)
            })
            .collect();
        assert!(!layers.is_empty(), "no layer in the row `{}`", cells[0]);
        // `name = value` in backticks, or `name` (default: ...).
        let written = cells[1].split('`').collect::<Vec<_>>();
        for (i, code) in written.iter().enumerate().skip(1).step_by(2) {
            let after = written.get(i + 1).copied().unwrap_or_default();
            let (name, described) = match code.split_once(" = ") {
                Some((name, _)) => (name, format!("`{code}`")),
                None if after.starts_with(" (default: ") => {
                    let what = &after[" (default: ".len()..after.find(')').unwrap()];
                    (*code, format!("`{code}` (default: {what})"))
                }
                None => continue,
            };
            let with_arg: Vec<_> = layers
                .iter()
                .filter_map(|l| info(l)?.args.iter().find(|a| a.name == name))
                .collect();
            assert!(
                !with_arg.is_empty(),
                "docs/dsl.md gives `{name}` to {layers:?}, which have no such argument"
            );
            for arg in with_arg {
                if described.contains(" = ") || !arg.is_required() {
                    // A row may list layers of which only some default this
                    // argument (`ArgMax`'s `axis` beside the reductions'
                    // `axes`); those it names must agree.
                    assert_eq!(
                        arg.describe(),
                        described,
                        "docs/dsl.md's default of `{name}` in the row {layers:?}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} defaults read from docs/dsl.md"
    );
}

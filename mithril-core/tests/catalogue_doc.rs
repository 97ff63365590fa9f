//! docs/layers.md's reference table is generated from the catalogue, so the
//! documentation cannot drift from the rules. Regenerate with
//! `MITHRIL_REGENERATE_DOCS=1 cargo test -p mithril-core --test catalogue_doc`.

use mithril_core::layers::{Arity, CATALOGUE};

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

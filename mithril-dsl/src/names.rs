//! The names of generated items, derived in one place.
//!
//! For a model `Net`: `Net`, `NetParams`, `NetInputs`, `NetOutputs`, and a
//! struct per layer with parameters, `Net` + the layer name in CamelCase +
//! `Params` (`linear_0` -> `NetLinear0Params`). Two layer names that give
//! the same struct (`linear0` and `linear_0`), or a layer struct that is
//! another model's item, are reported at the user's name ([`LayerStructs`]).
//! Hidden items (a model's signature macro, the fallback module of a block
//! that waits for signatures) carry a hash of the model's name and place,
//! so they are unique in the crate.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use proc_macro2::{Ident, Span, TokenStream};
use quote::format_ident;
use syn::ext::IdentExt;

/// A field or local name from a string that core produced (a node, input,
/// output or weight name): raw where it is a keyword (`r#type`), and never
/// a panic for a string that is no identifier.
pub fn field(name: &str) -> Ident {
    field_spanned(name, Span::call_site())
}

/// [`field`] with a span.
pub fn field_spanned(name: &str, span: Span) -> Ident {
    if syn::parse_str::<Ident>(name).is_ok() {
        return Ident::new(name, span);
    }
    if !name.is_empty()
        && !matches!(name, "self" | "Self" | "super" | "crate" | "_")
        && syn::parse_str::<Ident>(&format!("r#{name}")).is_ok()
    {
        return Ident::new_raw(name, span);
    }
    // Not an identifier at all: spell its characters out.
    let mangled: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect();
    format_ident!("__{}", mangled, span = span)
}

/// `fc1` -> `Fc1`, `linear_0` -> `Linear0`, `query_proj` -> `QueryProj`.
pub fn camel(name: &str) -> String {
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// `NetParams`, `NetInputs`, `NetOutputs`.
pub fn item(model: &Ident, suffix: &str) -> Ident {
    format_ident!("{}{}", model.unraw(), suffix, span = model.span())
}

/// Where a model is written, for hidden names: its file, line and column
/// when the compiler tells (inside a macro), so that two models of one name
/// in different modules get different hidden items. The file is named
/// relative to the crate (else by its file name), so the names do not
/// depend on where the crate is checked out.
fn site(span: Span) -> String {
    if !proc_macro::is_available() {
        return String::new();
    }
    let span = span.unwrap();
    let file = span.file();
    let path = std::path::Path::new(&file);
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(std::path::PathBuf::from);
    let relative = crate_dir
        .as_deref()
        .and_then(|dir| path.strip_prefix(dir).ok())
        .or_else(|| path.file_name().map(std::path::Path::new))
        .unwrap_or(path);
    format!("{}:{}:{}", relative.display(), span.line(), span.column())
}

/// A hash of the model's name, place and statements.
fn stamp(model: &Ident, body: &TokenStream) -> u64 {
    let mut hasher = DefaultHasher::new();
    model.unraw().to_string().hash(&mut hasher);
    site(model.span()).hash(&mut hasher);
    body.to_string().hash(&mut hasher);
    hasher.finish()
}

/// A hidden item of a model: `__mithril_<what>_Net_<hash>`.
pub fn hidden(what: &str, model: &Ident, body: &TokenStream) -> Ident {
    format_ident!(
        "__mithril_{}_{}_{:016x}",
        what,
        model.unraw(),
        stamp(model, body)
    )
}

/// Who owns a generated type name, for the error when two want it.
#[derive(Clone)]
pub struct Owner {
    /// Index of the model in the block.
    pub model: usize,
    /// The node (source index) for a layer struct, `None` for the model's own items.
    pub node: Option<usize>,
    /// How to name it in a message: "the layer `linear0`", "model `NetFc`".
    pub describe: String,
    /// A user name that can be changed: the layer's `name:`.
    pub user_name: Option<String>,
}

/// A layer that has parameters (so a struct): its index in the spec, its
/// name, and whether the user chose the name.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerName {
    pub source: usize,
    pub name: String,
    pub user: bool,
}

/// A model's name and its layers that have parameters.
pub struct ModelLayers {
    pub model: Ident,
    pub layers: Vec<LayerName>,
}

/// The layer structs of a block, with collisions resolved.
#[derive(Default)]
pub struct LayerStructs {
    idents: HashMap<(usize, usize), Ident>,
}

/// A generated name that two owners want.
pub struct Collision {
    /// The owner reported (the later one, or the one with a user name).
    pub owner: Owner,
    /// The other.
    pub other: Owner,
    /// The contested name.
    pub name: String,
    /// A free name to suggest, for a user name.
    pub suggestion: Option<String>,
}

impl LayerStructs {
    /// Assigns each layer struct its name.
    pub fn assign(models: &[ModelLayers]) -> (LayerStructs, Vec<Collision>) {
        let mut taken: HashMap<String, Owner> = HashMap::new();
        let mut collisions = Vec::new();
        for (m, ModelLayers { model, .. }) in models.iter().enumerate() {
            for suffix in ["", "Params", "Inputs", "Outputs"] {
                taken
                    .entry(format!("{}{suffix}", model.unraw()))
                    .or_insert(Owner {
                        model: m,
                        node: None,
                        describe: format!("model `{}`", model.unraw()),
                        user_name: None,
                    });
            }
        }
        let mut structs = LayerStructs::default();
        for (m, ModelLayers { model, layers }) in models.iter().enumerate() {
            // Automatic names first: a collision is then reported at a
            // user's name, which the user can change.
            let mut ordered: Vec<&LayerName> = layers.iter().collect();
            ordered.sort_by_key(|l| (l.user, l.source));
            for LayerName { source, name, user } in ordered {
                let wanted = format!("{}{}Params", model.unraw(), camel(name));
                let owner = Owner {
                    model: m,
                    node: Some(*source),
                    describe: format!("the layer `{name}`"),
                    user_name: user.then(|| name.clone()),
                };
                let ident = match taken.get(&wanted) {
                    None => format_ident!("{}", wanted),
                    Some(other) => {
                        let free = |candidate: &String| {
                            !taken.contains_key(&format!(
                                "{}{}Params",
                                model.unraw(),
                                camel(candidate)
                            ))
                        };
                        let suggestion = owner.user_name.as_ref().and_then(|n| {
                            std::iter::once(format!("{n}_layer"))
                                .chain((2..100).map(|k| format!("{n}_layer{k}")))
                                .find(free)
                        });
                        // The build fails with the error; a distinct name
                        // keeps rustc from adding its own.
                        let unique = format_ident!("{}Layer{}", wanted, source);
                        collisions.push(Collision {
                            owner: owner.clone(),
                            other: other.clone(),
                            name: wanted.clone(),
                            suggestion,
                        });
                        unique
                    }
                };
                taken.insert(ident.to_string(), owner);
                structs.idents.insert((m, *source), ident);
            }
        }
        (structs, collisions)
    }

    /// The struct of node `source` of model `m`.
    pub fn get(&self, m: usize, source: usize) -> Option<&Ident> {
        self.idents.get(&(m, source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_raw_for_keywords_and_never_panic() {
        assert_eq!(field("fc1").to_string(), "fc1");
        assert_eq!(field("type").to_string(), "r#type");
        assert_eq!(field("self").to_string(), "__self");
        assert_eq!(field("a.b").to_string(), "__a_b");
        assert_eq!(field("").to_string(), "__");
    }

    #[test]
    fn camel_case_of_layer_names() {
        assert_eq!(camel("linear_0"), "Linear0");
        assert_eq!(camel("linear0"), "Linear0");
        assert_eq!(camel("query_proj"), "QueryProj");
        assert_eq!(camel("type"), "Type");
    }

    #[test]
    fn colliding_layer_structs_are_reported_at_the_user_name() {
        let layer = |source: usize, name: &str, user: bool| LayerName {
            source,
            name: name.to_string(),
            user,
        };
        let models = vec![
            ModelLayers {
                model: format_ident!("Net"),
                layers: vec![
                    layer(0, "linear_0", false),
                    layer(1, "linear0", true),
                    layer(2, "fc", true),
                ],
            },
            ModelLayers {
                model: format_ident!("NetFc"),
                layers: vec![],
            },
        ];
        let (structs, collisions) = LayerStructs::assign(&models);
        let reported: Vec<String> = collisions
            .iter()
            .map(|c| {
                format!(
                    "{} vs {}: {} ({:?})",
                    c.owner.describe, c.other.describe, c.name, c.suggestion
                )
            })
            .collect();
        assert_eq!(
            reported,
            [
                "the layer `linear0` vs the layer `linear_0`: NetLinear0Params (Some(\"linear0_layer\"))",
                "the layer `fc` vs model `NetFc`: NetFcParams (Some(\"fc_layer\"))",
            ]
        );
        assert_eq!(structs.get(0, 0).unwrap().to_string(), "NetLinear0Params");
        assert_eq!(
            structs.get(0, 1).unwrap().to_string(),
            "NetLinear0ParamsLayer1"
        );
    }
}

//! Builds every model of the invocation with mithril-core, the same code the
//! runtime uses, and turns core's errors into spanned compile errors.
//!
//! Models of the block are built in dependency order; models of other
//! blocks come from their signatures ([`crate::link`]). A model whose
//! nested model failed is still built, so its own mistakes are reported;
//! what depends on the failed model is skipped silently.

use std::sync::Arc;

use mithril_core::family::{self, Template};
use mithril_core::graph::{Graph, Nested, NodeOutline, OutlineKind, Site};
use mithril_core::layers::{CATALOGUE, LAYER_ITSELF};
use quote::ToTokens;

use crate::ir::{ModelIr, local_index};
use crate::names::{LayerName, LayerStructs, ModelLayers};

/// What the check found out about each model of the block.
pub struct Checked {
    /// Each model's graph (a family's with its defaults), `None` where it
    /// failed or is a family without defaults for every parameter.
    pub graphs: Vec<Option<Arc<Graph>>>,
    /// Each family's template.
    pub families: Vec<Option<Arc<Template>>>,
    /// Whether each model checked (a family: as far as it can be checked
    /// without values; its instantiations are checked where they are made).
    pub ok: Vec<bool>,
    /// Each failed model's outline, for its items.
    pub outlines: Vec<Option<Vec<NodeOutline>>>,
    /// The names of the layer structs.
    pub structs: LayerStructs,
}

/// Derive macros of the prelude: a model's signature macro of that name
/// would hide them in the model's module.
const PRELUDE_DERIVES: &[&str] = &[
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "Eq",
    "Hash",
    "Ord",
    "PartialEq",
    "PartialOrd",
];

/// Checks the block's models; `externals` are the models of other blocks
/// they use, by key (read from their signatures by `link`).
pub fn check(
    models: &[ModelIr],
    externals: &[(String, Nested)],
    errors: &mut Vec<syn::Error>,
) -> Checked {
    let external = |key: &str| {
        externals
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, n)| n.clone())
    };
    for (i, m) in models.iter().enumerate() {
        let name = &*m.spec.name;
        if models[..i].iter().any(|other| other.spec.name == name) {
            errors.push(syn::Error::new_spanned(
                &m.name,
                format!("model `{name}` is defined twice"),
            ));
        } else if CATALOGUE.iter().any(|l| l.name == name) {
            errors.push(syn::Error::new_spanned(
                &m.name,
                format!("model `{name}` has the name of a built-in layer; choose another name"),
            ));
        } else if PRELUDE_DERIVES.contains(&name) {
            errors.push(syn::Error::new_spanned(
                &m.name,
                format!(
                    "a model named `{name}` would hide the derive macro `{name}` in this module; choose another name"
                ),
            ));
        }
    }
    // The models of the block each model uses (node, model), found once:
    // the passes below visit them again and again.
    let used: Vec<Vec<(usize, usize)>> = (0..models.len())
        .map(|i| {
            models[i]
                .spec
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(n, node)| local_index(models, &node.layer).map(|m| (n, m)))
                .collect()
        })
        .collect();
    let uses = |i: usize| -> Vec<(usize, usize)> { used[i].clone() };

    let mut graphs: Vec<Option<Option<Arc<Graph>>>> = vec![None; models.len()];
    let mut families: Vec<Option<Arc<Template>>> = vec![None; models.len()];
    let mut ok = vec![false; models.len()];
    // What a family's instantiations look models up in: the block's
    // models built so far and the other blocks'.
    let mut resolved: Vec<(String, Nested)> = externals.to_vec();
    // Build in dependency order: a model waits for the models it nests.
    loop {
        let mut progressed = false;
        for (i, model) in models.iter().enumerate() {
            if graphs[i].is_some() {
                continue;
            }
            let deps = &used[i];
            if deps.iter().any(|&(_, m)| graphs[m].is_none() && m != i) {
                continue;
            }
            progressed = true;
            if let Some(&(n, _)) = deps.iter().find(|&&(_, m)| m == i) {
                errors.push(syn::Error::new_spanned(
                    model.tokens(Site::Node(n)),
                    format!("model `{}` cannot contain itself", model.spec.name),
                ));
                graphs[i] = Some(None);
                continue;
            }
            let lookup = |key: &str| match local_index(models, key) {
                Some(m) => Some(match (&families[m], graphs[m].clone().flatten()) {
                    (Some(t), _) => Nested::Family(Arc::clone(t)),
                    (None, Some(g)) => Nested::Model(g),
                    (None, None) => Nested::Failed,
                }),
                None => external(key),
            };
            let report = |errors: &mut Vec<syn::Error>,
                          found: Vec<mithril_core::graph::BuildError>| {
                for e in found {
                    errors.push(syn::Error::new_spanned(model.tokens(e.site), e.message));
                }
            };
            let built = if model.instance {
                instance(model, &lookup, errors)
            } else if !model.spec.params.is_empty() || !model.spec.loops.is_empty() {
                let snapshot = resolved.clone();
                let models_of = move |key: &str| {
                    snapshot
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, n)| n.clone())
                };
                let template = Arc::new(
                    Template::new(model.spec.clone(), Arc::new(models_of))
                        .with_locations(locations(model)),
                );
                families[i] = Some(Arc::clone(&template));
                let defaults: Option<family::Values> = model
                    .spec
                    .params
                    .iter()
                    .map(|p| p.default.clone().map(|d| (p.name.clone(), d)))
                    .collect();
                match defaults {
                    // With its defaults, a family is a model of its own.
                    Some(values) => match template.check(&values) {
                        Ok(g) => Some(g),
                        Err(found) => {
                            report(errors, found);
                            families[i] = None;
                            None
                        }
                    },
                    None => {
                        // Without values: the checks that need none.
                        let found = Graph::check_structure(&model.spec);
                        ok[i] = found.is_empty();
                        report(errors, found);
                        None
                    }
                }
            } else {
                match Graph::build(&model.spec, &lookup) {
                    Ok(g) => Some(Arc::new(g)),
                    Err(found) => {
                        report(errors, found);
                        None
                    }
                }
            };
            ok[i] |= built.is_some();
            let nested = match (&families[i], &built) {
                (Some(t), _) if ok[i] => Nested::Family(Arc::clone(t)),
                (None, Some(g)) => Nested::Model(Arc::clone(g)),
                _ => {
                    families[i] = None;
                    Nested::Failed
                }
            };
            resolved.push((model.spec.name.to_string(), nested.clone()));
            resolved.push((format!("self::{}", model.spec.name), nested));
            graphs[i] = Some(built);
        }
        if !progressed {
            break;
        }
    }
    report_cycles(models, &graphs, &uses, errors);
    let cyclic = cyclic(models);
    let graphs: Vec<Option<Arc<Graph>>> = graphs.into_iter().map(Option::flatten).collect();

    let outlines: Vec<Option<Vec<NodeOutline>>> = models
        .iter()
        .zip(&graphs)
        .enumerate()
        .map(|(i, (model, graph))| {
            graph.is_none().then(|| {
                let lookup = |key: &str| match local_index(models, key) {
                    Some(m) if cyclic[m] => None,
                    Some(m) => Some(match (&families[m], &graphs[m]) {
                        (Some(t), _) => Nested::Family(Arc::clone(t)),
                        (None, Some(g)) => Nested::Model(Arc::clone(g)),
                        (None, None) => Nested::Failed,
                    }),
                    None => external(key),
                };
                match families[i].is_some() {
                    true => probe_outline(&model.spec, &lookup),
                    false => Graph::outline(&model.spec, &lookup),
                }
            })
        })
        .collect();
    for (i, outline) in outlines.iter().enumerate() {
        if families[i].is_none() {
            continue;
        }
        let origins = Origins::of(&models[i]);
        for node in outline.iter().flatten() {
            if !matches!(node.kind, OutlineKind::Unknown)
                || Origins::is_later_application(&node.name)
            {
                continue;
            }
            let (source, name) = origins.get(node.source, &node.name);
            let layer = models[i].spec.nodes[source].kind();
            let message = match mithril_core::layers::info(layer) {
                // Its parameters' names are what its values cannot give.
                Some(_) => format!(
                    "the parameters of layer `{name}` cannot be laid out without values for `{}`'s parameters; give them defaults (the family's parameter types are laid out from them)",
                    models[i].spec.name
                ),
                None => {
                    let names: Vec<&str> = CATALOGUE.iter().map(|l| l.name).collect();
                    let hint = mithril_core::closest(layer, &names)
                        .map(|c| format!("; did you mean `{c}`?"))
                        .unwrap_or_default();
                    format!("unknown layer `{layer}`{hint}")
                }
            };
            errors.push(syn::Error::new_spanned(
                models[i].tokens(Site::Node(source)),
                message,
            ));
        }
    }
    let structs = layer_structs(models, &graphs, &outlines, errors);
    Checked {
        graphs,
        families,
        ok,
        outlines,
        structs,
    }
}

/// The graph of `Name = Family(args);`: the family's instantiation, with
/// mistakes in the arguments at them and mistakes the instantiation
/// exposes at the call, naming it.
pub fn instance(
    model: &ModelIr,
    lookup: &dyn Fn(&str) -> Option<Nested>,
    errors: &mut Vec<syn::Error>,
) -> Option<Arc<Graph>> {
    let node = model.spec.nodes.first()?;
    let at = |site: Site| model.tokens(site);
    let template = match lookup(&node.layer) {
        Some(Nested::Family(t)) => t,
        Some(Nested::Failed) => return None,
        Some(Nested::Model(_)) => {
            errors.push(syn::Error::new_spanned(
                at(Site::Node(0)),
                format!(
                    "`{}` takes no parameters; `{} = ..` names a model family (a model with parameters), and a plain model is used by its own name",
                    node.layer, model.spec.name
                ),
            ));
            return None;
        }
        None => {
            errors.push(syn::Error::new_spanned(
                at(Site::Node(0)),
                format!("unknown model family `{}`", node.layer),
            ));
            return None;
        }
    };
    match template.call(0, node) {
        Ok(g) => Some(g),
        Err(found) => {
            for e in found {
                errors.push(syn::Error::new_spanned(at(e.site), e.message));
            }
            None
        }
    }
}

/// Which models reach themselves through the models of the block they use:
/// their items cannot name each other's parameters (the types would
/// contain themselves).
pub fn cyclic(models: &[ModelIr]) -> Vec<bool> {
    let uses: Vec<Vec<usize>> = models
        .iter()
        .map(|model| {
            model
                .spec
                .nodes
                .iter()
                .filter_map(|node| local_index(models, &node.layer))
                .collect()
        })
        .collect();
    (0..models.len())
        .map(|start| {
            let mut seen = vec![false; models.len()];
            let mut stack = uses[start].clone();
            while let Some(m) = stack.pop() {
                if m == start {
                    return true;
                }
                if !std::mem::replace(&mut seen[m], true) {
                    stack.extend(&uses[m]);
                }
            }
            false
        })
        .collect()
}

/// Models left unbuilt nest each other in a cycle: reports each cycle once,
/// at the layer call that closes it.
fn report_cycles(
    models: &[ModelIr],
    graphs: &[Option<Option<Arc<Graph>>>],
    uses: &dyn Fn(usize) -> Vec<(usize, usize)>,
    errors: &mut Vec<syn::Error>,
) {
    let pending = |i: usize| -> Vec<(usize, usize)> {
        uses(i)
            .into_iter()
            .filter(|&(_, m)| graphs[m].is_none())
            .collect()
    };
    let mut reported: Vec<usize> = Vec::new();
    for start in (0..models.len()).filter(|&i| graphs[i].is_none()) {
        if reported.contains(&start) {
            continue;
        }
        // Follow the first pending model each one uses until one repeats.
        let mut path: Vec<(usize, usize)> = Vec::new(); // (model, node that uses the next)
        let mut at = start;
        while !path.iter().any(|&(m, _)| m == at) {
            let Some(&(n, next)) = pending(at).first() else {
                break;
            };
            path.push((at, n));
            at = next;
        }
        let Some(begin) = path.iter().position(|&(m, _)| m == at) else {
            continue;
        };
        let cycle = &path[begin..];
        let mut chain = String::new();
        for (k, &(m, _)) in cycle.iter().chain(&cycle[..1]).enumerate() {
            chain += &match k {
                0 => format!("`{}`", models[m].spec.name),
                1 => format!(" uses `{}`", models[m].spec.name),
                _ => format!(", which uses `{}`", models[m].spec.name),
            };
        }
        let (model, node) = cycle[cycle.len() - 1];
        errors.push(syn::Error::new_spanned(
            models[model].tokens(Site::Node(node)),
            format!("models cannot contain each other in a cycle: {chain}"),
        ));
        reported.extend(cycle.iter().map(|&(m, _)| m));
    }
}

/// Names the layer structs of every model and reports two layers (or a
/// layer and a model) that would define the same struct.
fn layer_structs(
    models: &[ModelIr],
    graphs: &[Option<Arc<Graph>>],
    outlines: &[Option<Vec<NodeOutline>>],
    errors: &mut Vec<syn::Error>,
) -> LayerStructs {
    let layers: Vec<_> = models
        .iter()
        .enumerate()
        .map(|(m, model)| {
            // A second model of a name does not expand (reported already);
            // an instance's parameters are its family's.
            if model.instance
                || models[..m].iter().any(|other| other.spec.name == model.spec.name)
            {
                return ModelLayers {
                    model: model.name.clone(),
                    layers: Vec::new(),
                };
            }
            let user = |source: usize| model.spec.nodes[source].name.is_some();
            let origins = Origins::of(model);
            let layer = |source: usize, name: &str| {
                let (source, name) = origins.get(source, name);
                LayerName { source, name: name.to_string(), user: user(source) }
            };
            let with_params: Vec<LayerName> = match (&graphs[m], &outlines[m]) {
                (Some(g), _) => g
                    .nodes
                    .iter()
                    .filter(|n| matches!(n.op, mithril_core::graph::Op::Layer(_)) && !n.weights.is_empty() && !g.weight_is_node(n))
                    .map(|n| layer(n.source, &n.name))
                    .collect(),
                (None, Some(outline)) => outline
                    .iter()
                    .filter(|n| matches!(&n.kind, OutlineKind::Layer { weights, .. } if !weights.is_empty() && weights[..] != [LAYER_ITSELF]))
                    .map(|n| layer(n.source, &n.name))
                    .collect(),
                (None, None) => Vec::new(),
            };
            // A layer name used twice is reported already: one struct.
            let mut unique: Vec<LayerName> = Vec::new();
            for layer in with_params {
                if !unique.iter().any(|l| l.name == layer.name) {
                    unique.push(layer);
                }
            }
            ModelLayers {
                model: model.name.clone(),
                layers: unique,
            }
        })
        .collect();
    let (structs, collisions) = LayerStructs::assign(&layers);
    for c in collisions {
        let (Some(source), model) = (c.owner.node, &models[c.owner.model]) else {
            continue;
        };
        let tokens = model.nodes[source]
            .name
            .as_ref()
            .map(ToTokens::to_token_stream)
            .unwrap_or_else(|| model.tokens(Site::Node(source)));
        let message = match (&c.owner.user_name, &c.suggestion) {
            (Some(name), Some(suggestion)) => format!(
                "layer name `{name}` gives the parameter struct `{}`, the same as {}; rename the layer, e.g. `{suggestion}`",
                c.name, c.other.describe
            ),
            _ => format!(
                "{} gives the parameter struct `{}`, the same as {}; give this layer a name (`name: Layer`)",
                c.owner.describe, c.name, c.other.describe
            ),
        };
        errors.push(syn::Error::new_spanned(tokens, message));
    }
    structs
}

/// The outline of a family without defaults for every parameter: its
/// layers and their parameters, from an instantiation with stand-in
/// values (the names of layers and of their parameters do not depend on
/// sizes; counts that do are read at run time).
fn probe_outline(
    spec: &mithril_core::graph::ModelSpec,
    lookup: &dyn Fn(&str) -> Option<Nested>,
) -> Vec<NodeOutline> {
    use mithril_core::args::ArgValue;
    use mithril_core::family::ParamType;
    // Sizes that suit different layers' rules (a stride of 1 for
    // `padding = same`, a divisor, a power of two): a layer that one set
    // of stand-ins makes invalid is laid out from the next.
    let mut merged: Vec<NodeOutline> = Vec::new();
    for size in [8, 1, 2, 16, 3, 64] {
        let probe = |t: ParamType| match t {
            ParamType::Usize | ParamType::I64 => ArgValue::Int(size),
            ParamType::F64 => ArgValue::Float(1.0),
            ParamType::Bool => ArgValue::Bool(true),
            ParamType::Layer => ArgValue::Ident("Relu".into()),
        };
        let values: Vec<_> = spec
            .params
            .iter()
            .map(|p| {
                let value = p.default.clone().unwrap_or_else(|| match p.kind.list {
                    false => probe(p.kind.item),
                    true => ArgValue::List(vec![probe(p.kind.item)].into()),
                });
                (p.name.clone(), value)
            })
            .collect();
        let outline = Graph::outline(
            &mithril_core::family::outline_instance(spec, &values),
            lookup,
        );
        if merged.is_empty() {
            merged = outline;
        } else {
            for (have, new) in merged.iter_mut().zip(outline) {
                if matches!(have.kind, OutlineKind::Unknown) && have.name == new.name {
                    *have = new;
                }
            }
        }
        if !merged
            .iter()
            .any(|n| matches!(n.kind, OutlineKind::Unknown))
        {
            return merged;
        }
    }
    // A layer no stand-in fits (`Linear(d - 64)`): its parameters' names do
    // not depend on its sizes, so it is laid out with every size 1.
    let values: Vec<_> = spec
        .params
        .iter()
        .map(|p| {
            let value = p.default.clone().unwrap_or(ArgValue::Int(1));
            (p.name.clone(), value)
        })
        .collect();
    let mut unit = mithril_core::family::outline_instance(spec, &values);
    let nodes: Vec<_> = unit
        .nodes
        .iter()
        .map(|n| mithril_core::graph::NodeSpec {
            args: n
                .args
                .iter()
                .map(|a| mithril_core::args::ArgSpec {
                    name: a.name.clone(),
                    value: unit_sizes(&a.value),
                })
                .collect::<Vec<_>>()
                .into(),
            ..n.clone()
        })
        .collect();
    unit.nodes = nodes.into();
    for (have, new) in merged.iter_mut().zip(Graph::outline(&unit, lookup)) {
        if matches!(have.kind, OutlineKind::Unknown) && have.name == new.name {
            *have = new;
        }
    }
    merged
}

/// An argument with every positive size 1 (for laying out a layer's parameters).
fn unit_sizes(value: &mithril_core::args::ArgValue) -> mithril_core::args::ArgValue {
    use mithril_core::args::ArgValue;
    match value {
        ArgValue::Int(_) => ArgValue::Int(1),
        ArgValue::List(items) => {
            ArgValue::List(items.iter().map(unit_sizes).collect::<Vec<_>>().into())
        }
        ArgValue::Tuple(items) => {
            ArgValue::Tuple(items.iter().map(unit_sizes).collect::<Vec<_>>().into())
        }
        other => other.clone(),
    }
}

/// Where the nodes of an instantiation come from in the model as written:
/// a family's instantiation unrolls its loops (`fc.0`, `fc.1` are both
/// the layer `fc` of the loop), so its nodes are matched by name.
pub struct Origins {
    /// The template's node names, when the model is a family.
    names: Option<Vec<String>>,
}

impl Origins {
    pub fn of(model: &ModelIr) -> Origins {
        let family = !model.spec.params.is_empty() || !model.spec.loops.is_empty();
        Origins {
            names: family.then(|| mithril_core::graph::node_names(&model.spec)),
        }
    }

    /// The template node and its name for a node `name` at `source` of the
    /// instantiation.
    pub fn get<'a>(&self, source: usize, name: &'a str) -> (usize, &'a str) {
        let Some(names) = &self.names else {
            return (source, name);
        };
        let base = name.split('.').next().unwrap_or(name);
        match names.iter().position(|n| n == base) {
            Some(origin) => (origin, base),
            None => (source, name),
        }
    }

    /// Whether `name` is a loop's application after its first (`fc.1`):
    /// its field is the first's.
    pub fn is_later_application(name: &str) -> bool {
        name.split_once('.').is_some_and(|(_, k)| k != "0")
    }

    /// Whether `name` is an application of a loop's layer (`fc.0`).
    pub fn in_loop(name: &str) -> bool {
        name.contains('.')
    }
}

/// Where each layer of a model is in the source (`src/blocks.rs:12`), for
/// errors about a family's instantiations, which are reported at the
/// caller. Known only inside the compiler.
pub fn locations(model: &ModelIr) -> Arc<family::Locate> {
    let places: Vec<Option<String>> = (0..model.spec.nodes.len())
        .map(|i| {
            let span = model.tokens(Site::Node(i)).into_iter().next()?.span();
            place(span)
        })
        .collect();
    Arc::new(move |site: Site| match site {
        Site::Node(i) => places.get(i).cloned().flatten(),
        _ => None,
    })
}

/// `file:line` of a span, inside the compiler.
fn place(span: proc_macro2::Span) -> Option<String> {
    if !proc_macro::is_available() {
        return None;
    }
    let span = span.unwrap();
    Some(format!("{}:{}", span.file(), span.line()))
}

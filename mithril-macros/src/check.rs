//! Builds every model of the invocation with mithril-core, the same code the
//! runtime uses, and turns core's errors into spanned compile errors.

use std::collections::HashMap;
use std::sync::Arc;

use mithril_core::graph::{Graph, Site};

use crate::lower::Lowered;

/// Each model's graph, or `None` where it (or a model it nests) has errors.
pub fn check(models: &[Lowered], errors: &mut Vec<syn::Error>) -> Vec<Option<Arc<Graph>>> {
    let index: HashMap<String, usize> = models
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.to_string(), i))
        .collect();
    for (i, m) in models.iter().enumerate() {
        if index[&m.name.to_string()] != i {
            errors.push(syn::Error::new_spanned(
                &m.name,
                format!("model `{}` is defined twice", m.name),
            ));
        }
    }
    let mut graphs: Vec<Option<Option<Arc<Graph>>>> = vec![None; models.len()];
    // Build in dependency order: a model waits for the models it nests.
    loop {
        let mut progressed = false;
        for (i, model) in models.iter().enumerate() {
            if graphs[i].is_some() {
                continue;
            }
            let deps: Vec<(usize, usize)> = model
                .spec
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(n, node)| index.get(&*node.layer).map(|&m| (n, m)))
                .collect();
            if deps.iter().any(|&(_, m)| graphs[m].is_none() && m != i) {
                continue;
            }
            progressed = true;
            if let Some(&(n, _)) = deps.iter().find(|&&(_, m)| m == i) {
                errors.push(syn::Error::new_spanned(
                    model.tokens(Site::Node(n)),
                    format!("model `{}` cannot contain itself", model.name),
                ));
                graphs[i] = Some(None);
                continue;
            }
            if deps.iter().any(|&(_, m)| matches!(graphs[m], Some(None))) {
                // A nested model failed; its errors are reported already.
                graphs[i] = Some(None);
                continue;
            }
            let lookup = |name: &str| index.get(name).and_then(|&m| graphs[m].clone().flatten());
            graphs[i] = Some(match Graph::build(&model.spec, &lookup) {
                Ok(g) => Some(Arc::new(g)),
                Err(found) => {
                    for e in found {
                        errors.push(syn::Error::new_spanned(model.tokens(e.site), e.message));
                    }
                    None
                }
            });
        }
        if !progressed {
            break;
        }
    }
    // Models left unbuilt nest each other in a cycle: report each cycle once,
    // at the layer call that closes it.
    let pending: Vec<usize> = (0..models.len()).filter(|&i| graphs[i].is_none()).collect();
    let uses = |i: usize| -> Vec<(usize, usize)> {
        models[i]
            .spec
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(n, node)| index.get(&*node.layer).map(|&m| (n, m)))
            .filter(|&(_, m)| graphs[m].is_none())
            .collect()
    };
    let mut reported: Vec<usize> = Vec::new();
    for &start in &pending {
        if reported.contains(&start) {
            continue;
        }
        // Follow the first pending model each one uses until one repeats.
        let mut path: Vec<(usize, usize)> = Vec::new(); // (model, node that uses the next)
        let mut at = start;
        while !path.iter().any(|&(m, _)| m == at) {
            let Some(&(n, next)) = uses(at).first() else {
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
                0 => format!("`{}`", models[m].name),
                1 => format!(" uses `{}`", models[m].name),
                _ => format!(", which uses `{}`", models[m].name),
            };
        }
        let (model, node) = cycle[cycle.len() - 1];
        errors.push(syn::Error::new_spanned(
            models[model].tokens(Site::Node(node)),
            format!("models cannot contain each other in a cycle: {chain}"),
        ));
        reported.extend(cycle.iter().map(|&(m, _)| m));
    }
    graphs.into_iter().map(Option::flatten).collect()
}

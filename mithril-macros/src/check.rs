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
    graphs
        .into_iter()
        .enumerate()
        .map(|(i, g)| {
            g.unwrap_or_else(|| {
                errors.push(syn::Error::new_spanned(
                    &models[i].name,
                    format!(
                        "models nest each other in a cycle through `{}`",
                        models[i].name
                    ),
                ));
                None
            })
        })
        .collect()
}

//! Pass 8: shared parameters (`share head.weight = embed.weight;`). Each
//! target parameter leaves [`Graph::weights`](crate::graph::Graph::weights):
//! its node uses the source instead, so the two are one array (weight tying:
//! one value, one gradient summed over its uses, one optimizer state).

use crate::graph::error::Errors;
use crate::graph::{ModelSpec, Node, Op, Site, Weight};
use crate::shape::Shape;

/// Removes every valid share's target from `weights` and records, on its
/// node, which weight it uses instead. Invalid shares are reported and left
/// out; the model then fails to build.
pub(super) fn apply(
    spec: &ModelSpec,
    nodes: &mut [Node],
    weights: Vec<Weight>,
    errors: &mut Errors,
) -> Vec<Weight> {
    if spec.shares.is_empty() {
        return weights;
    }
    let known: Vec<&str> = weights.iter().map(|w| w.path.as_str()).collect();
    let find = |path: &str, site: Site, errors: &mut Errors| -> Option<usize> {
        let found = weights.iter().position(|w| w.path == path);
        if found.is_none() {
            let hint = crate::closest(path, &known)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            errors.push(site, format!("unknown parameter `{path}`{hint}"));
        }
        found
    };
    // (target, source) pairs, as indices into `weights`.
    let mut links: Vec<(usize, usize)> = Vec::new();
    for (i, share) in spec.shares.iter().enumerate() {
        let target = find(&share.target, Site::ShareTarget(i), errors);
        let source = find(&share.source, Site::ShareSource(i), errors);
        let (Some(t), Some(s)) = (target, source) else {
            continue;
        };
        let (tw, sw) = (&weights[t], &weights[s]);
        let owner = nodes.iter().find(|n| n.weights.contains(&t));
        let problem = if t == s {
            Some(format!("`{}` cannot share itself", tw.path))
        } else if links.iter().any(|&(other, _)| other == t) {
            Some(format!("`{}` is already shared", tw.path))
        } else if links.iter().any(|&(other, _)| other == s) {
            Some(format!(
                "`{}` is itself shared; share the parameter it shares instead",
                sw.path
            ))
        } else if links.iter().any(|&(_, other)| other == t) {
            Some(format!(
                "`{}` is the source of another `share`; it cannot also be a target",
                tw.path
            ))
        } else if owner.is_some_and(|n| matches!(n.op, Op::Model(_))) {
            Some(format!(
                "`{}` belongs to a nested model; only parameters of this model's own layers can be shared into",
                tw.path
            ))
        } else if owner.is_some_and(|n| n.repeat > 1) {
            Some(format!(
                "`{}` belongs to a repeated layer; share into a layer applied once",
                tw.path
            ))
        } else if let Some((why, site)) = buffered(&weights, t)
            .map(|w| (w, Site::ShareTarget(i)))
            .or_else(|| buffered(&weights, s).map(|w| (w, Site::ShareSource(i))))
        {
            errors.push(
                site,
                format!(
                    "`{}` cannot share `{}`: neither side of a `share` may be a buffer or belong to a layer with buffers (such as BatchNorm's running statistics), and {why}",
                    tw.path, sw.path
                ),
            );
            continue;
        } else if tw.shape != sw.shape {
            Some(format!(
                "`{}` is {} but `{}` is {}: shared parameters need the same shape",
                tw.path,
                Shape::known(&tw.shape),
                sw.path,
                Shape::known(&sw.shape)
            ))
        } else {
            None
        };
        match problem {
            Some(message) => errors.push(Site::ShareTarget(i), message),
            None => links.push((t, s)),
        }
    }
    if links.is_empty() {
        return weights;
    }

    // New indices once the targets leave the list.
    let removed = |i: usize| links.iter().any(|&(t, _)| t == i);
    let mut new_index = vec![usize::MAX; weights.len()];
    let mut kept = 0;
    for (i, slot) in new_index.iter_mut().enumerate() {
        if !removed(i) {
            *slot = kept;
            kept += 1;
        }
    }
    for node in nodes.iter_mut() {
        let old = node.weights.clone();
        for &(t, s) in &links {
            if old.contains(&t) {
                node.shared.push((t - old.start, new_index[s]));
            }
        }
        node.shared.sort_unstable();
        let start = (0..old.start).filter(|&i| !removed(i)).count();
        let owned = old.filter(|&i| !removed(i)).count();
        node.weights = start..start + owned;
    }
    weights
        .into_iter()
        .enumerate()
        .filter(|&(i, _)| !removed(i))
        .map(|(_, w)| w)
        .collect()
}

/// Why weight `w` cannot be either side of a `share`: it is a buffer, or
/// its layer (the weights of its path's prefix, `bn` of `bn.weight`) has
/// one. Both sides are held to this, so the rule reads the same either way.
fn buffered(weights: &[Weight], w: usize) -> Option<String> {
    let weight = &weights[w];
    if !weight.trainable {
        return Some(format!("`{}` is a buffer", weight.path));
    }
    let layer = |path: &str| path.rsplit_once('.').map(|(layer, _)| layer.to_string());
    let own = layer(&weight.path)?;
    let buffer = weights
        .iter()
        .find(|o| !o.trainable && layer(&o.path).as_deref() == Some(&own))?;
    Some(format!(
        "`{}` belongs to layer `{own}`, which has the buffer `{}`",
        weight.path, buffer.path
    ))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{input, named, node, spec};
    use crate::graph::{Graph, ShareSpec, Site};
    use std::borrow::Cow;

    fn tied(shares: &[(&str, &str)]) -> crate::graph::ModelSpec {
        let mut s = spec(
            &[input("tokens", "B T")],
            vec![
                named(
                    "embed",
                    node("Embedding", &["50", "8"], &["tokens"], Some("e")),
                ),
                node("Relu", &[], &["e"], Some("r")),
                named("head", node("Linear", &["50"], &["r"], Some("logits"))),
            ],
            &["logits"],
        );
        s.shares = shares
            .iter()
            .map(|(t, src)| ShareSpec {
                target: Cow::Owned(t.to_string()),
                source: Cow::Owned(src.to_string()),
            })
            .collect::<Vec<_>>()
            .into();
        s
    }

    #[test]
    fn a_tied_head_uses_the_embedding_table() {
        let graph = Graph::build(&tied(&[("head.weight", "embed.weight")]), &|_| None).unwrap();
        let paths: Vec<&str> = graph.weights.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(paths, ["embed.weight", "head.bias"]);
        let head = graph.nodes.iter().find(|n| n.name == "head").unwrap();
        assert_eq!(head.weights, 1..2);
        assert_eq!(head.shared, [(0, 0)]);
        let names = ["E", "b"];
        assert_eq!(head.layer_weights(&names, 0), ["E", "b"]);
        assert_eq!(graph.parameter_count(), 50 * 8 + 50);
    }

    #[test]
    fn mistakes_are_reported_at_the_statement() {
        let errors = |shares: &[(&str, &str)]| {
            Graph::build(&tied(shares), &|_| None)
                .unwrap_err()
                .into_iter()
                .map(|e| (e.site, e.message))
                .collect::<Vec<_>>()
        };
        let e = errors(&[("head.wieght", "embed.weight")]);
        assert_eq!(e[0].0, Site::ShareTarget(0));
        assert!(e[0].1.contains("did you mean `head.weight`"), "{e:?}");
        let e = errors(&[("head.bias", "embed.weight")]);
        assert!(
            e[0].1.contains("is [50] but `embed.weight` is [50, 8]"),
            "{e:?}"
        );
        let e = errors(&[("head.weight", "head.weight")]);
        assert!(e[0].1.contains("cannot share itself"), "{e:?}");
        let e = errors(&[
            ("head.weight", "embed.weight"),
            ("head.weight", "embed.weight"),
        ]);
        assert_eq!(e.len(), 1);
        assert!(e[0].1.contains("already shared"), "{e:?}");
        let e = errors(&[
            ("head.weight", "embed.weight"),
            ("embed.weight", "head.weight"),
        ]);
        assert!(
            e[0].1.contains("itself shared") || e[0].1.contains("source of another"),
            "{e:?}"
        );
        let e = errors(&[("head.weight", "nowhere.weight")]);
        assert_eq!(e[0].0, Site::ShareSource(0));
    }

    /// A `share` with a layer that has buffers is refused whichever side
    /// that layer is on, at that side.
    #[test]
    fn buffers_are_refused_on_either_side() {
        let errors = |target: &str, source: &str| {
            let mut s = spec(
                &[input("x", "B 8")],
                vec![
                    named("bn", node("BatchNorm", &[], &["x"], Some("a"))),
                    named("ln", node("LayerNorm", &[], &["a"], Some("b"))),
                    named("ln2", node("LayerNorm", &[], &["b"], Some("y"))),
                ],
                &["y"],
            );
            s.shares = vec![ShareSpec {
                target: Cow::Owned(target.to_string()),
                source: Cow::Owned(source.to_string()),
            }]
            .into();
            Graph::build(&s, &|_| None).err().unwrap_or_default()
        };
        for (target, source, site) in [
            ("bn.weight", "ln.weight", Site::ShareTarget(0)),
            ("ln.weight", "bn.weight", Site::ShareSource(0)),
            ("ln.bias", "bn.running_mean", Site::ShareSource(0)),
        ] {
            let e = errors(target, source);
            assert_eq!(e.len(), 1, "{target} = {source}: {e:?}");
            assert_eq!(e[0].site, site, "{target} = {source}");
            assert!(
                e[0].message
                    .contains("neither side of a `share` may be a buffer"),
                "{e:?}"
            );
        }
        assert!(errors("ln2.weight", "ln.weight").is_empty());
    }
}

//! What a model's items contain: the fields of its parameters (and the
//! per-layer parameter structs), inputs and outputs. From the graph of a
//! model that checked, or from the outline of one that failed, so that a
//! failed model's items have the same fields code around it uses.

use mithril_core::graph::{Graph, NodeOutline, Op, OutlineKind};
use mithril_core::layers::LAYER_ITSELF;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::check::Origins;
use crate::ir::ModelIr;
use crate::names::{self, LayerStructs};

use super::items::Count;

/// The fields of a model's items.
pub struct Layout {
    /// `<Model>Params`: one field per layer with parameters.
    pub params: Vec<ParamField>,
    /// The per-layer parameter structs.
    pub layer_structs: Vec<LayerStruct>,
    /// `<Model>Inputs`.
    pub inputs: Vec<ValueField>,
    /// `<Model>Outputs`.
    pub outputs: Vec<ValueField>,
}

/// A field of `<Model>Params`.
pub struct ParamField {
    pub ident: Ident,
    /// The layer's name: the field's segment of parameter paths.
    pub segment: String,
    pub doc: String,
    /// The type of one application; empty for an array (a `buffer`).
    pub ty: TokenStream,
    /// Applications (`Layer * 3` is a `Vec` of 3; `Block * layers` of a
    /// family, as many as the instantiation makes).
    pub repeat: Count,
}

/// A node's count of applications: a family's repeat that is an expression
/// varies with the instantiation.
fn count(ir: &ModelIr, source: usize, repeat: usize) -> Count {
    match ir
        .spec
        .nodes
        .get(source)
        .and_then(|n| n.repeat_expr.as_ref())
    {
        Some(_) => Count::Dynamic,
        None => Count::Fixed(repeat),
    }
}

/// `<Model><Layer>Params { weight, bias }`.
pub struct LayerStruct {
    pub ident: Ident,
    pub doc: String,
    pub fields: Vec<(Ident, String)>,
}

/// A field of `<Model>Inputs` or `<Model>Outputs`.
pub struct ValueField {
    pub ident: Ident,
    pub name: String,
    pub doc: String,
}

/// The field of a weight in its layer's struct: its name within the layer,
/// lowercase, dots as underscores (`weight`, `query_proj.weight` ->
/// `query_proj_weight`, `Wx` -> `wx`).
fn weight_field(local: &str) -> Ident {
    names::field(&local.replace('.', "_").to_ascii_lowercase())
}

/// `<path as ::mithril::Family>::Params` for a nested model.
fn nested_params(path: &syn::Path) -> TokenStream {
    quote!(<#path as ::mithril::Family>::Params)
}

/// The layout of a model that checked.
pub fn of_graph(model: usize, ir: &ModelIr, graph: &Graph, structs: &LayerStructs) -> Layout {
    let name = &ir.spec.name;
    let mut params = Vec::new();
    let mut layer_structs = Vec::new();
    let origins = Origins::of(ir);
    for node in &graph.nodes {
        if node.weights.is_empty() || Origins::is_later_application(&node.name) {
            continue;
        }
        let (source, field) = origins.get(node.source, &node.name);
        let looped = Origins::in_loop(&node.name);
        let ty = match &node.op {
            Op::Model(_) => nested_params(&ir.nodes[source].layer),
            Op::Layer(_) if graph.weight_is_node(node) => TokenStream::new(),
            Op::Layer(layer) => {
                let Some(ident) = structs.get(model, source).cloned() else {
                    continue;
                };
                let per_application = node.weights.len() / node.repeat.max(1);
                let weights =
                    &graph.weights[node.weights.start..node.weights.start + per_application];
                let prefix = |path: &str| {
                    let local = path
                        .strip_prefix(node.name.as_str())
                        .and_then(|p| p.strip_prefix('.'))
                        .unwrap_or(path);
                    // `mix.0.bias` -> `bias` for a repeated layer.
                    if count(ir, source, node.repeat).is_vec() {
                        local
                            .split_once('.')
                            .map_or(local, |(_, rest)| rest)
                            .to_string()
                    } else {
                        local.to_string()
                    }
                };
                let fields = weights
                    .iter()
                    .map(|w| {
                        (
                            weight_field(&prefix(&w.path)),
                            format!(
                                "Shape `{:?}` (mlx.nn layout of `{}`).",
                                w.shape,
                                layer.name()
                            ),
                        )
                    })
                    .collect();
                layer_structs.push(LayerStruct {
                    doc: format!(
                        "Parameters of layer `{}` (`{}`) of [`{name}`].",
                        node.name, node.call
                    ),
                    ident: ident.clone(),
                    fields,
                });
                quote!(#ident)
            }
        };
        let doc = match ty.is_empty() {
            true => format!(
                "`{}`: a buffer of shape `{:?}`, saved with the parameters, never trained.",
                node.name, graph.weights[node.weights.start].shape
            ),
            false => format!("`{}`: `{}`.", node.name, node.call),
        };
        params.push(ParamField {
            ident: names::field(field),
            segment: field.to_string(),
            doc,
            ty,
            repeat: match looped {
                true => Count::Dynamic,
                false => count(ir, source, node.repeat),
            },
        });
    }
    let value = |n: &str, doc: String| ValueField {
        ident: names::field(n),
        name: n.to_string(),
        doc,
    };
    Layout {
        params,
        layer_structs,
        inputs: graph
            .inputs
            .iter()
            .map(|i| match i.differentiable {
                true => value(&i.name, format!("Shape `{}`.", i.shape)),
                false => value(
                    &i.name,
                    format!("Shape `{}`; static: no gradient flows into it.", i.shape),
                ),
            })
            .collect(),
        outputs: graph
            .outputs
            .iter()
            .map(|o| value(&o.name, format!("Shape `{}`.", o.shape)))
            .collect(),
    }
}

/// Whether a failed model's items may name nested models by their paths:
/// in the second step every path resolved; the fallback items of the first
/// step name nothing of the user's (a path may not resolve, and in a
/// function body even the block's own models are out of their reach).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Paths {
    All,
    Own,
}

/// The layout of a model that failed, from its outline: the fields it
/// would have, without shapes.
pub fn of_outline(
    model: usize,
    ir: &ModelIr,
    outline: &[NodeOutline],
    structs: &LayerStructs,
    paths: Paths,
) -> Layout {
    let name = &ir.spec.name;
    let mut params = Vec::new();
    let mut layer_structs = Vec::new();
    let origins = Origins::of(ir);
    for node in outline {
        let (source, field) = origins.get(node.source, &node.name);
        let looped = Origins::in_loop(&node.name);
        let Some(spec) = ir.spec.nodes.get(source) else {
            continue;
        };
        // A layer name used twice is reported already; one field is enough.
        if params
            .iter()
            .any(|p: &ParamField| p.ident == names::field(field))
        {
            continue;
        }
        let ty = match &node.kind {
            OutlineKind::Layer { weights, .. } if weights[..] == [LAYER_ITSELF] => {
                TokenStream::new()
            }
            OutlineKind::Layer { weights, .. } if !weights.is_empty() => {
                let Some(ident) = structs.get(model, source).cloned() else {
                    continue;
                };
                layer_structs.push(LayerStruct {
                    doc: format!("Parameters of layer `{field}` of [`{name}`]."),
                    ident: ident.clone(),
                    fields: weights
                        .iter()
                        .map(|w| (weight_field(w), String::new()))
                        .collect(),
                });
                quote!(#ident)
            }
            OutlineKind::Model(graph) => {
                let has_weights = graph.as_ref().is_none_or(|g| !g.weights.is_empty());
                if !has_weights || paths == Paths::Own {
                    continue;
                }
                nested_params(&ir.nodes[source].layer)
            }
            _ => continue,
        };
        params.push(ParamField {
            ident: names::field(field),
            segment: field.to_string(),
            doc: format!("`{field}`."),
            ty,
            repeat: match looped {
                true => Count::Dynamic,
                false => count(ir, source, spec.repeat),
            },
        });
    }
    // Each name once: a name given twice is an error reported already, and
    // a duplicate field would only add a second error about generated code.
    let unique = |names: &[Ident]| {
        let mut seen: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for n in names {
            let text = crate::ir::text(n).to_string();
            if !seen.contains(&text) {
                out.push(ValueField {
                    ident: names::field(&text),
                    name: text.clone(),
                    doc: String::new(),
                });
                seen.push(text);
            }
        }
        out
    };
    Layout {
        params,
        layer_structs,
        inputs: unique(&ir.inputs),
        outputs: unique(&ir.outputs),
    }
}

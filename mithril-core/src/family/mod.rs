//! Model families: models that take parameters (`Block(d: usize, heads:
//! usize = 12)`), written once and instantiated with values
//! (`Block(d = 768, heads = 12)`).
//!
//! A family's [`ModelSpec`] is a template: expressions of its parameters
//! stand where numbers go ([`expr`]). [`bind`] matches a caller's arguments
//! to the parameters, [`instantiate`] substitutes their values into a
//! concrete spec that [`Graph::build`] checks like any other, and a
//! [`Template`] does both for nested models, remembering each
//! instantiation it built.

pub mod expr;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::args::{ArgError, ArgSite, ArgSpec, ArgValue, List, Str};
use crate::dim::MAX_SIZE;
use crate::graph::{
    BuildError, DimSpec, Graph, InputSpec, MAX_REPEAT, ModelLookup, ModelSpec, Nested, NodeSpec,
    Scalar, Site, ValueRef, node_names, repeat_out_of_range,
};
use crate::layers::CustomHandle;

pub use expr::{BinaryOp, Expr, ExprTok, Func};

/// A parameter a model declares: `heads: usize = 12`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    /// Its name, usable as `name = value` by callers and in expressions.
    pub name: Str,
    /// What values it takes.
    pub kind: ParamKind,
    /// The default, or `None` when callers must give it.
    pub default: Option<ArgValue>,
}

/// The type of a model parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamKind {
    /// The type of the value, or of each item of a list.
    pub item: ParamType,
    /// `[usize]`: a list of items.
    pub list: bool,
}

/// The type of a parameter's value (or of its items).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// `usize`: a non-negative integer (sizes, counts).
    Usize,
    /// `i64`: an integer (axes, offsets).
    I64,
    /// `f64`: a number (rates, epsilons, scales); integers are taken too.
    F64,
    /// `bool`
    Bool,
    /// `Layer`: a layer or model used in a pipeline (`act = Gelu`).
    Layer,
}

impl ParamType {
    /// The type as written in a model's header.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::Usize => "usize",
            ParamType::I64 => "i64",
            ParamType::F64 => "f64",
            ParamType::Bool => "bool",
            ParamType::Layer => "Layer",
        }
    }

    /// The type named `word`.
    pub fn named(word: &str) -> Option<ParamType> {
        Some(match word {
            "usize" => ParamType::Usize,
            "i64" => ParamType::I64,
            "f64" => ParamType::F64,
            "bool" => ParamType::Bool,
            "Layer" => ParamType::Layer,
            _ => return None,
        })
    }

    /// What it takes, in words.
    fn expects(self) -> &'static str {
        match self {
            ParamType::Usize => "a non-negative integer",
            ParamType::I64 => "an integer",
            ParamType::F64 => "a number",
            ParamType::Bool => "`true` or `false`",
            ParamType::Layer => "a layer or model, such as `Gelu` or `blocks::Mlp`",
        }
    }

    /// `value` as a value of this type (integers widen to floats), or `None`.
    fn accept(self, value: &ArgValue) -> Option<ArgValue> {
        match (self, value) {
            (ParamType::Usize, ArgValue::Int(n)) if *n >= 0 => Some(value.clone()),
            (ParamType::I64, ArgValue::Int(_)) => Some(value.clone()),
            (ParamType::F64, ArgValue::Int(n)) => Some(ArgValue::Float(*n as f64)),
            (ParamType::F64, ArgValue::Float(_)) => Some(value.clone()),
            (ParamType::Bool, ArgValue::Bool(_)) => Some(value.clone()),
            (ParamType::Layer, ArgValue::Ident(_) | ArgValue::Path(_)) => Some(value.clone()),
            _ => None,
        }
    }
}

impl ParamKind {
    /// `value` as a value of this kind, or `None`.
    pub fn accept(&self, value: &ArgValue) -> Option<ArgValue> {
        match (self.list, value) {
            (false, _) => self.item.accept(value),
            (true, ArgValue::List(items)) => items
                .iter()
                .map(|v| self.item.accept(v))
                .collect::<Option<Vec<_>>>()
                .map(|v| ArgValue::List(v.into())),
            (true, _) => None,
        }
    }

    /// What it takes, in words.
    pub fn expects(&self) -> String {
        match self.list {
            false => self.item.expects().to_string(),
            true => format!("a list of {}s", self.item.name()),
        }
    }
}

impl fmt::Display for ParamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.list {
            false => f.write_str(self.item.name()),
            true => write!(f, "[{}]", self.item.name()),
        }
    }
}

/// A parameter's value, by name.
pub type Values = Vec<(Str, ArgValue)>;

/// Binds a caller's arguments to a model's parameters, positional then
/// named, as layer arguments bind: every problem is reported, at the
/// argument (or the call, for a missing one). Defaults fill the rest.
pub fn bind(model: &str, params: &[ParamSpec], args: &[ArgSpec]) -> Result<Values, Vec<ArgError>> {
    let mut bound: Vec<Option<(usize, &ArgValue)>> = vec![None; params.len()];
    let mut errors = Vec::new();
    let mut seen_named = false;
    let mut position = 0;
    let mut unplaced = false;
    let names: Vec<&str> = params.iter().map(|p| &*p.name).collect();
    let listing = || match names.as_slice() {
        [] => format!("`{model}` takes no parameters"),
        _ => format!(
            "`{model}` takes {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    for (index, arg) in args.iter().enumerate() {
        let site = ArgSite::Arg(index);
        match &arg.name {
            None if seen_named => {
                unplaced = true;
                errors.push(ArgError {
                    site,
                    message: format!(
                        "positional argument `{}` of `{model}` follows a named argument; positional arguments come first",
                        arg.value
                    ),
                });
            }
            None if position < params.len() => {
                bound[position] = Some((index, &arg.value));
                position += 1;
            }
            None => {
                unplaced = true;
                errors.push(ArgError {
                    site,
                    message: format!("too many arguments: {}", listing()),
                });
            }
            Some(name) => {
                seen_named = true;
                match names.iter().position(|n| n == name) {
                    Some(slot) if bound[slot].is_some() => errors.push(ArgError {
                        site,
                        message: format!("parameter `{name}` of `{model}` is given twice"),
                    }),
                    Some(slot) => bound[slot] = Some((index, &arg.value)),
                    None => {
                        unplaced = true;
                        let hint = crate::closest(name, &names)
                            .map(|n| format!("; did you mean `{n}`?"))
                            .unwrap_or_else(|| format!("; {}", listing()));
                        errors.push(ArgError {
                            site,
                            message: format!("`{model}` has no parameter `{name}`{hint}"),
                        });
                    }
                }
            }
        }
    }
    let mut values = Vec::with_capacity(params.len());
    for (param, slot) in params.iter().zip(&bound) {
        match slot {
            Some((index, value)) => match param.kind.accept(value) {
                Some(v) => values.push((param.name.clone(), v)),
                None => {
                    // A word where a number goes: most likely a Rust constant.
                    let hint = match (value, param.kind.item) {
                        (ArgValue::Ident(word) | ArgValue::Path(word), t)
                            if t != ParamType::Layer && t != ParamType::Bool =>
                        {
                            format!(
                                "; a Rust constant cannot be read here, since the macro reads the model while the crate compiles, before constants have values: declare it in the `model!` block instead, as in `const {word}: {} = ..;`",
                                param.kind.item.name()
                            )
                        }
                        _ => String::new(),
                    };
                    errors.push(ArgError {
                        site: ArgSite::Arg(*index),
                        message: format!(
                            "parameter `{}: {}` of `{model}` takes {}, found `{value}`{hint}",
                            param.name,
                            param.kind,
                            param.kind.expects()
                        ),
                    })
                }
            },
            None => match &param.default {
                Some(d) => values.push((param.name.clone(), d.clone())),
                None if !unplaced => errors.push(ArgError {
                    site: ArgSite::Call,
                    message: format!(
                        "`{model}` needs its parameter `{}: {}`, as in `{model}({} = ..)`",
                        param.name, param.kind, param.name
                    ),
                }),
                None => {}
            },
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// A call as text, `Block(d = 768, heads = 12)`, for errors and summaries.
pub fn call_text(model: &str, values: &[(Str, ArgValue)]) -> String {
    if values.is_empty() {
        return model.to_string();
    }
    let args: Vec<String> = values.iter().map(|(n, v)| format!("{n} = {v}")).collect();
    format!("{model}({})", args.join(", "))
}

/// The concrete model a family's `values` make: every expression evaluated,
/// every layer parameter replaced by its layer, and every node given the
/// name the template gives it (so that names, and parameter paths, are the
/// same for every instantiation). Errors have sites in the template.
pub fn instantiate(
    template: &ModelSpec,
    values: &[(Str, ArgValue)],
) -> Result<ModelSpec, Vec<BuildError>> {
    let (spec, errors) = unroll(template, values, false);
    match errors.is_empty() {
        true => Ok(spec),
        false => Err(errors),
    }
}

/// The instantiation with these values made whatever its mistakes: an
/// expression that fails stands as 1, and a loop whose range fails runs
/// once. Its layers and their names are those of every instantiation,
/// which is what a family's parameter types are laid out from when not
/// every parameter has a default.
pub fn outline_instance(template: &ModelSpec, values: &[(Str, ArgValue)]) -> ModelSpec {
    unroll(template, values, true).0
}

/// [`instantiate`], and with `lenient` [`outline_instance`].
fn unroll(
    template: &ModelSpec,
    values: &[(Str, ArgValue)],
    lenient: bool,
) -> (ModelSpec, Vec<BuildError>) {
    let env = |name: &str| {
        values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut errors = Vec::new();
    let mut fail = |site: Site, message: String| errors.push(BuildError { site, message });

    let mut inputs = Vec::with_capacity(template.inputs.len());
    for (i, input) in template.inputs.iter().enumerate() {
        let mut dims = Vec::with_capacity(input.dims.len());
        for d in input.dims.iter() {
            dims.push(match d {
                DimSpec::Expr(e) => match expr::eval(e, &env) {
                    Ok(ArgValue::Int(n)) if n >= 1 && n as u64 <= MAX_SIZE as u64 => {
                        DimSpec::Lit(n as usize)
                    }
                    Ok(other) => {
                        fail(
                            Site::Input(i),
                            format!(
                                "dimension `{}` of input `{}` is {other}; a dimension is a positive integer up to {MAX_SIZE}",
                                expr::display(e),
                                input.name
                            ),
                        );
                        DimSpec::Lit(1)
                    }
                    Err(message) => {
                        fail(Site::Input(i), message);
                        DimSpec::Lit(1)
                    }
                },
                other => other.clone(),
            });
        }
        inputs.push(InputSpec {
            name: input.name.clone(),
            dims: dims.into(),
            differentiable: input.differentiable,
        });
    }

    let names = node_names(template);
    let mut nodes: Vec<NodeSpec> = Vec::with_capacity(template.nodes.len());
    // The latest node made from each template node, by template index.
    let mut made: Vec<usize> = vec![usize::MAX; template.nodes.len()];
    let mut i = 0;
    while i < template.nodes.len() {
        let Some((l, each)) = template
            .loops
            .iter()
            .enumerate()
            .find(|(_, l)| l.first == i && l.len > 0)
        else {
            let node = concrete(&template.nodes[i], i, &env, &mut fail);
            made[i] = nodes.len();
            nodes.push(NodeSpec {
                name: Some(Cow::Owned(names[i].clone())),
                inputs: remap(&node.inputs, &made, None),
                ..node
            });
            i += 1;
            continue;
        };
        let bound = |e: &Expr| match expr::eval(e, &env) {
            Ok(ArgValue::Int(n)) => Ok(n),
            Ok(other) => Err(format!(
                "a loop's bound `{}` is {other}, not an integer",
                expr::display(e)
            )),
            Err(message) => Err(message),
        };
        let (start, end) = match (bound(&each.start), bound(&each.end)) {
            (Ok(a), Ok(b)) if b > a && b - a <= MAX_REPEAT as i64 => (a, b),
            (Ok(a), Ok(b)) => {
                fail(
                    Site::Loop(l),
                    format!(
                        "a loop runs from 1 to {MAX_REPEAT} times, found `{}..{}` = {a}..{b}",
                        expr::display(&each.start),
                        expr::display(&each.end)
                    ),
                );
                (0, 1)
            }
            (Err(message), _) | (_, Err(message)) => {
                fail(Site::Loop(l), message);
                (0, 1)
            }
        };
        if !lenient && !errors_free(&each.start, &each.end, &bound) {
            // The range is reported; its body would only add errors of its own.
            i = each.first + each.len;
            continue;
        }
        let body = each.first..each.first + each.len;
        let last = body.end - 1;
        for (k, index) in (start..end).enumerate() {
            let var = each.var.clone();
            let with_index = |name: &str| match name == &*var {
                true => Some(ArgValue::Int(index)),
                false => env(name),
            };
            for b in body.clone() {
                let node = concrete(&template.nodes[b], b, &with_index, &mut fail);
                // The body's first stage reads the previous application's last.
                let previous = (b == body.start && k > 0).then_some(made[last]);
                made[b] = nodes.len();
                nodes.push(NodeSpec {
                    name: Some(Cow::Owned(format!("{}.{k}", names[b]))),
                    inputs: remap(&node.inputs, &made, previous),
                    output: if b == last && index == end - 1 {
                        node.output.clone()
                    } else {
                        None
                    },
                    ..node
                });
            }
        }
        i = body.end;
    }
    let spec = ModelSpec {
        name: template.name.clone(),
        params: Cow::Borrowed(&[]),
        inputs: inputs.into(),
        nodes: nodes.into(),
        outputs: template.outputs.clone(),
        shares: template.shares.clone(),
        loops: Cow::Borrowed(&[]),
    };
    (spec, errors)
}

/// Whether a loop's range is one it can run.
fn errors_free(start: &Expr, end: &Expr, bound: &dyn Fn(&Expr) -> Result<i64, String>) -> bool {
    matches!((bound(start), bound(end)), (Ok(a), Ok(b)) if b > a && b - a <= MAX_REPEAT as i64)
}

/// A template node with its expressions evaluated and its layer parameter
/// replaced; its inputs still index the template's nodes.
fn concrete(
    node: &NodeSpec,
    i: usize,
    env: &dyn Fn(&str) -> Option<ArgValue>,
    fail: &mut dyn FnMut(Site, String),
) -> NodeSpec {
    let layer = match &node.choice {
        Some(e) => match expr::eval(e, env) {
            Ok(ArgValue::Ident(l) | ArgValue::Path(l)) => l,
            Ok(other) => {
                fail(
                    Site::Node(i),
                    format!("`{}` is {other}, not a layer", expr::display(e)),
                );
                node.layer.clone()
            }
            Err(message) => {
                fail(Site::Node(i), message);
                node.layer.clone()
            }
        },
        None => node.layer.clone(),
    };
    let mut args = Vec::with_capacity(node.args.len());
    for (a, arg) in node.args.iter().enumerate() {
        let value = substitute(&arg.value, env).unwrap_or_else(|message| {
            fail(Site::NodeArg { node: i, arg: a }, message);
            ArgValue::Int(1)
        });
        args.push(ArgSpec {
            name: arg.name.clone(),
            value,
        });
    }
    let mut inputs = Vec::with_capacity(node.inputs.len());
    for (k, input) in node.inputs.iter().enumerate() {
        inputs.push(match input {
            ValueRef::Expr(e) => match expr::eval(e, env) {
                Ok(ArgValue::Int(n)) => ValueRef::Literal(Scalar::new(n as f64)),
                Ok(ArgValue::Float(x)) => ValueRef::Literal(Scalar::new(x)),
                Ok(other) => {
                    fail(
                        Site::NodeInput { node: i, input: k },
                        format!("operand `{}` is {other}, not a number", expr::display(e)),
                    );
                    ValueRef::Literal(Scalar::new(0.0))
                }
                Err(message) => {
                    fail(Site::NodeInput { node: i, input: k }, message);
                    ValueRef::Literal(Scalar::new(0.0))
                }
            },
            other => other.clone(),
        });
    }
    let repeat = match &node.repeat_expr {
        None => node.repeat,
        Some(e) => match expr::eval(e, env) {
            Ok(ArgValue::Int(n)) if (1..=MAX_REPEAT as i64).contains(&n) => n as usize,
            Ok(other) => {
                fail(
                    Site::NodeRepeat(i),
                    repeat_out_of_range(&format!("{} = {other}", expr::display(e))),
                );
                1
            }
            Err(message) => {
                fail(Site::NodeRepeat(i), message);
                1
            }
        },
    };
    NodeSpec {
        name: node.name.clone(),
        layer,
        // Kept: the layer a parameter chose must have no parameters.
        choice: node.choice.clone(),
        args: args.into(),
        inputs: inputs.into(),
        output: node.output.clone(),
        bindings: node.bindings.clone(),
        repeat,
        // Kept: a count that varies with the instantiation numbers its
        // applications even when it is 1 (`h.0.weight`).
        repeat_expr: node.repeat_expr.clone(),
        checkpoint: node.checkpoint,
    }
}

/// Inputs that index template nodes, indexing the nodes made from them;
/// `previous` replaces a loop body's entry.
fn remap(inputs: &[ValueRef], made: &[usize], previous: Option<usize>) -> List<ValueRef> {
    inputs
        .iter()
        .enumerate()
        .map(|(k, v)| match (v, previous) {
            (ValueRef::Node(_) | ValueRef::Named(_), Some(p)) if k == 0 => ValueRef::Node(p),
            (ValueRef::Node(j), _) => ValueRef::Node(made.get(*j).copied().unwrap_or(*j)),
            (other, _) => other.clone(),
        })
        .collect::<Vec<_>>()
        .into()
}

/// The prefix of a layer key that names a layer parameter: a node whose
/// layer is `$act` applies the layer the parameter `act` holds.
pub const LAYER_PARAM: &str = "$";

/// A value with every expression in it evaluated.
fn substitute(
    value: &ArgValue,
    env: &dyn Fn(&str) -> Option<ArgValue>,
) -> Result<ArgValue, String> {
    Ok(match value {
        ArgValue::Expr(e) => expr::eval(e, env)?,
        ArgValue::List(items) => ArgValue::List(
            items
                .iter()
                .map(|v| substitute(v, env))
                .collect::<Result<Vec<_>, _>>()?
                .into(),
        ),
        ArgValue::Tuple(items) => ArgValue::Tuple(
            items
                .iter()
                .map(|v| substitute(v, env))
                .collect::<Result<Vec<_>, _>>()?
                .into(),
        ),
        other => other.clone(),
    })
}

/// Errors about a node, with the node's name (and, where known, its place
/// in the source) first: an instantiation's errors are read far from its
/// source. `spec` is the instantiation the sites index; `template` names
/// the template's nodes, which `locate` places.
fn name_layers(
    spec: &ModelSpec,
    template: &[String],
    locate: Option<&Locate>,
    errors: Vec<BuildError>,
) -> Vec<BuildError> {
    let names = node_names(spec);
    errors
        .into_iter()
        .map(|e| {
            let node = match e.site {
                Site::Node(i)
                | Site::NodeArg { node: i, .. }
                | Site::NodeInput { node: i, .. }
                | Site::NodeRepeat(i)
                | Site::NodeOutput(i)
                | Site::NodeBinding { node: i, .. } => names.get(i),
                _ => None,
            };
            let Some(name) = node else {
                return e;
            };
            // A loop's application `fc.2` is the template's `fc`.
            let base = name.split('.').next().unwrap_or(name);
            let place = template
                .iter()
                .position(|n| n == base)
                .and_then(|t| locate.and_then(|l| l(Site::Node(t))))
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            BuildError {
                message: format!("layer `{name}`{place}: {}", e.message),
                ..e
            }
        })
        .collect()
}

/// Where a template's sites are in the source, for errors about an
/// instantiation (`src/blocks.rs:12`); `None` where unknown.
pub type Locate = dyn Fn(Site) -> Option<String> + Send + Sync;

/// Custom ops' functions by path, for the layers of an instantiation.
pub type Functions = dyn Fn(&str) -> Option<CustomHandle> + Send + Sync;

/// The models a template's nodes name.
pub type Models = dyn Fn(&str) -> Option<Nested> + Send + Sync;

/// A family as a nested model: its template, what its layers name, and the
/// graphs of the instantiations built so far.
pub struct Template {
    /// The family's spec, with its parameters.
    pub spec: ModelSpec,
    models: Arc<Models>,
    functions: Option<Arc<Functions>>,
    locate: Option<Arc<Locate>>,
    built: Mutex<HashMap<String, Instance>>,
}

/// One instantiation's result: its graph, or why it fails (empty when a
/// model it nests failed on its own).
type Instance = Result<Arc<Graph>, Vec<BuildError>>;

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("spec", &self.spec.name)
            .finish()
    }
}

impl Template {
    /// A template over `spec`, whose layers find models through `models`.
    pub fn new(spec: ModelSpec, models: Arc<Models>) -> Template {
        Template {
            spec,
            models,
            functions: None,
            locate: None,
            built: Mutex::new(HashMap::new()),
        }
    }

    /// Attaches custom ops' functions to every instantiation's layers.
    pub fn with_functions(mut self, functions: Arc<Functions>) -> Template {
        self.functions = Some(functions);
        self
    }

    /// Names source locations in errors about instantiations.
    pub fn with_locations(mut self, locate: Arc<Locate>) -> Template {
        self.locate = Some(locate);
        self
    }

    /// The family's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The graph of the call `node` (the family with the node's arguments)
    /// at node `i` of a caller: mistakes in the arguments are errors at
    /// them, mistakes the instantiation exposes one error each at the call,
    /// naming the instantiation. An empty list of errors means a model the
    /// family nests failed on its own (reported there).
    pub fn call(&self, i: usize, node: &NodeSpec) -> Result<Arc<Graph>, Vec<BuildError>> {
        let name = node.kind();
        let values = bind(name, &self.spec.params, &node.args).map_err(|found| {
            found
                .into_iter()
                .map(|ArgError { site, message }| BuildError {
                    site: match site {
                        ArgSite::Call => Site::Node(i),
                        ArgSite::Arg(arg) => Site::NodeArg { node: i, arg },
                    },
                    message,
                })
                .collect::<Vec<_>>()
        })?;
        self.instance(&values).map_err(|inner| {
            let call = call_text(name, &values);
            inner
                .into_iter()
                .map(|e| BuildError {
                    site: Site::Node(i),
                    message: format!("in `{call}`: {}", e.message),
                })
                .collect()
        })
    }

    /// The graph of the instantiation with these (bound) values, built once.
    pub fn instance(&self, values: &[(Str, ArgValue)]) -> Instance {
        let key = call_text("", values);
        if let Some(found) = self.built.lock().ok().and_then(|b| b.get(&key).cloned()) {
            return found;
        }
        let built = self.build(values);
        if let Ok(mut b) = self.built.lock() {
            b.insert(key, built.clone());
        }
        built
    }

    /// The instantiation with these values, its errors at the template's
    /// sites (for the family's own check, where they point at its layers).
    pub fn check(&self, values: &[(Str, ArgValue)]) -> Instance {
        let spec = instantiate(&self.spec, values)?;
        let models: ModelLookup<'_> = &*self.models;
        let mut graph = Graph::build(&spec, models)?;
        if let Some(functions) = &self.functions {
            graph.attach_functions(&**functions);
        }
        Ok(Arc::new(graph))
    }

    fn build(&self, values: &[(Str, ArgValue)]) -> Instance {
        let template = node_names(&self.spec);
        let locate = self.locate.as_deref();
        let spec = instantiate(&self.spec, values)
            .map_err(|found| name_layers(&self.spec, &template, locate, found))?;
        let models: ModelLookup<'_> = &*self.models;
        let mut graph = Graph::build(&spec, models)
            .map_err(|found| name_layers(&spec, &template, locate, found))?;
        if let Some(functions) = &self.functions {
            graph.attach_functions(&**functions);
        }
        Ok(Arc::new(graph))
    }
}

//! The traits that `model!` implements, and the glue its generated code calls.

use std::sync::Arc;

use mithril_core::args::ArgSpec;
use mithril_core::family::Template;
use mithril_core::graph::{Graph, ModelSpec, Nested};
use mithril_core::layers::CustomHandle;
use mlx_rs::Array;
use mlx_rs::error::Exception;

use crate::error::{Error, raise};

/// A model defined with `model!`: its graph and its typed parameters,
/// inputs and outputs.
pub trait Model: 'static {
    /// The model's name.
    const NAME: &'static str;
    /// Its parameters (gradients have the same type).
    type Params: Params;
    /// Its inputs.
    type Inputs: Values;
    /// Its outputs.
    type Outputs: Values;

    /// The checked graph, built once from the spec the macro wrote.
    fn graph() -> &'static Arc<Graph>;
}

/// The types of a model or a model family: what code that nests it, or
/// reads its parameters, needs. Every [`Model`] is one (a blanket impl); a
/// family without a default for every parameter is one without being a
/// model, and its instantiations share its types.
pub trait Family: 'static {
    /// The family's (or model's) name.
    const NAME: &'static str;
    /// Its parameters (gradients have the same type).
    type Params: Params;
    /// Its inputs.
    type Inputs: Values;
    /// Its outputs.
    type Outputs: Values;
}

impl<M: Model> Family for M {
    const NAME: &'static str = M::NAME;
    type Params = M::Params;
    type Inputs = M::Inputs;
    type Outputs = M::Outputs;
}

/// Arrays read in order into a parameter tree, with their dotted paths
/// when known.
///
/// A model family's trees have repeats whose count depends on the
/// instantiation (`Block * layers`): those are read by path, so a reader
/// built with [`ArrayReader::with_paths`] (from the graph's weights) reads
/// every tree, and a [`ArrayReader::positional`] one reads the trees whose
/// shape the type fixes.
pub struct ArrayReader<'a> {
    arrays: &'a mut dyn Iterator<Item = Array>,
    paths: Option<&'a [mithril_core::graph::Weight]>,
    next: usize,
    prefix: String,
    marks: Vec<usize>,
}

impl<'a> ArrayReader<'a> {
    /// Reads `arrays` without paths.
    pub fn positional(arrays: &'a mut dyn Iterator<Item = Array>) -> ArrayReader<'a> {
        ArrayReader {
            arrays,
            paths: None,
            next: 0,
            prefix: String::new(),
            marks: Vec::new(),
        }
    }

    /// Reads `arrays`, the arrays of `weights` in order.
    pub fn with_paths(
        arrays: &'a mut dyn Iterator<Item = Array>,
        weights: &'a [mithril_core::graph::Weight],
    ) -> ArrayReader<'a> {
        ArrayReader {
            paths: Some(weights),
            ..ArrayReader::positional(arrays)
        }
    }

    /// The next array; with paths, `None` when it is not inside the field
    /// being read (a tree of another shape than the graph's).
    pub fn take(&mut self) -> Option<Array> {
        if self.continues() == Some(false) {
            return None;
        }
        self.next += 1;
        self.arrays.next()
    }

    /// Whether every array of the graph was read (always, without paths).
    pub fn finished(&self) -> bool {
        self.paths.is_none_or(|p| self.next == p.len())
    }

    /// Enters the field `segment` (a layer or an index) of the tree.
    pub fn enter(&mut self, segment: &str) {
        if self.paths.is_some() {
            self.marks.push(self.prefix.len());
            if !self.prefix.is_empty() {
                self.prefix.push('.');
            }
            self.prefix.push_str(segment);
        }
    }

    /// Leaves the field entered last.
    pub fn leave(&mut self) {
        if let Some(at) = self.marks.pop() {
            self.prefix.truncate(at);
        }
    }

    /// Whether the next array lies inside the field entered last; `None`
    /// without paths (a count that depends on the instantiation cannot be
    /// read then).
    pub fn continues(&self) -> Option<bool> {
        let paths = self.paths?;
        Some(paths.get(self.next).is_some_and(|w| {
            self.prefix.is_empty()
                || w.path
                    .strip_prefix(self.prefix.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        }))
    }

    /// A field that is a tree of its own (a layer's or a nested model's).
    pub fn field<T: Params>(&mut self, field: &str) -> Option<T> {
        self.enter(field);
        let item = T::read(self);
        self.leave();
        item
    }

    /// A field repeated `count` times (`Block * 3`).
    pub fn fixed<T: Params>(&mut self, field: &str, count: usize) -> Option<Vec<T>> {
        self.enter(field);
        let mut items = Vec::with_capacity(count);
        for k in 0..count {
            self.enter(&k.to_string());
            let item = T::read(self);
            self.leave();
            items.push(item?);
        }
        self.leave();
        Some(items)
    }

    /// The items of a repeated field whose count depends on the
    /// instantiation: element `k` is read while arrays at `field.k` follow.
    pub fn repeated<T: Params>(&mut self, field: &str) -> Option<Vec<T>> {
        self.enter(field);
        let mut items = Vec::new();
        loop {
            self.enter(&items.len().to_string());
            if !self.continues()? {
                self.leave();
                break;
            }
            let item = T::read(self);
            self.leave();
            items.push(item?);
        }
        self.leave();
        Some(items)
    }
}

/// A tree of parameter arrays in a fixed order (the graph's weight order).
pub trait Params: Clone + Sized {
    /// Calls `f` on every array, in order.
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a Array));
    /// Calls `f` on every array mutably, in order.
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Array));
    /// Reads a tree; `None` when there are too few arrays, or when a count
    /// that depends on the instantiation has no paths to read it by.
    fn read(arrays: &mut ArrayReader<'_>) -> Option<Self>;

    /// Takes arrays in order, without paths (see [`ArrayReader`]); `None`
    /// when there are too few.
    fn from_arrays(arrays: &mut dyn Iterator<Item = Array>) -> Option<Self> {
        Self::read(&mut ArrayReader::positional(arrays))
    }

    /// Takes the arrays of a graph's weights, in order.
    fn from_weights(
        arrays: &mut dyn Iterator<Item = Array>,
        weights: &[mithril_core::graph::Weight],
    ) -> Option<Self> {
        let mut reader = ArrayReader::with_paths(arrays, weights);
        let tree = Self::read(&mut reader)?;
        reader.finished().then_some(tree)
    }

    /// Every array, in order (cheap: arrays are reference counted).
    fn to_arrays(&self) -> Vec<Array> {
        let mut out = Vec::new();
        self.visit(&mut |a| out.push(a.clone()));
        out
    }

    /// A tree of the same type from `f` applied to this tree's arrays and the
    /// matching arrays of `other` (same type, so the same order): an update
    /// rule `p - lr * g` is `params.try_zip_map(&grads, &mut |p, g| ..)`.
    fn try_zip_map(
        &self,
        other: &Self,
        f: &mut dyn FnMut(&Array, &Array) -> Result<Array, Exception>,
    ) -> Result<Self, Exception> {
        let mut others = other.to_arrays().into_iter();
        self.try_map(&mut |a| {
            let b = others
                .next()
                .ok_or_else(|| raise(Error::Internal("two trees of one type differ in length")))?;
            f(a, &b)
        })
    }

    /// A tree of the same type with `f` applied to every array.
    fn try_map(
        &self,
        f: &mut dyn FnMut(&Array) -> Result<Array, Exception>,
    ) -> Result<Self, Exception> {
        let mut mapped = self.clone();
        let mut error = None;
        mapped.visit_mut(&mut |a| {
            if error.is_none() {
                match f(a) {
                    Ok(b) => *a = b,
                    Err(e) => error = Some(e),
                }
            }
        });
        error.map_or(Ok(mapped), Err)
    }
}

/// Named arrays in declaration order: a model's inputs or outputs.
pub trait Values: Sized {
    /// The names, in order.
    const NAMES: &'static [&'static str];
    /// The arrays, in order.
    fn arrays(&self) -> Vec<&Array>;
    /// Builds from arrays in order; `None` when there are too few.
    fn from_arrays(arrays: Vec<Array>) -> Option<Self>;
}

/// A custom op's function: `Lambda(my_fn)` in `model!`.
pub type CustomFn = fn(&Array) -> Result<Array, Exception>;

/// Wraps a custom op's function for the graph (called by generated code).
#[doc(hidden)]
pub fn custom_op(f: CustomFn) -> CustomHandle {
    CustomHandle(Arc::new(f))
}

pub(crate) fn custom_fn(handle: &Option<CustomHandle>) -> Option<CustomFn> {
    handle
        .as_ref()
        .and_then(|h| h.0.downcast_ref::<CustomFn>().copied())
}

/// What a model is to the models that nest it: its graph, a family's
/// template, or a failure (implemented by generated code).
#[doc(hidden)]
pub trait Nestable {
    /// The model as a nested model.
    fn nested() -> Nested;
}

/// How generated code hands over a nested model: its graph, or a family's
/// template.
#[doc(hidden)]
pub type NestedFn = fn() -> Nested;

/// A family's template at run time (called by generated code, once per
/// family): instantiations find their nested models and custom ops in the
/// same tables as a model's graph.
#[doc(hidden)]
pub fn build_template(
    spec: &'static ModelSpec,
    nested: &'static [(&'static str, NestedFn)],
    customs: &[(&str, CustomHandle)],
) -> Arc<Template> {
    let customs: Vec<(String, CustomHandle)> = customs
        .iter()
        .map(|(p, h)| (p.to_string(), h.clone()))
        .collect();
    let models = move |name: &str| nested.iter().find(|(n, _)| *n == name).map(|(_, g)| g());
    let functions = move |path: &str| {
        customs
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, h)| h.clone())
    };
    Arc::new(Template::new(spec.clone(), Arc::new(models)).with_functions(Arc::new(functions)))
}

/// The graph of a family's instantiation with these arguments (called by
/// generated code for a family's defaults and for `Name = Family(..)`).
///
/// The macro built the same instantiation while the crate compiled, so this
/// cannot fail unless the `mithril` crates' versions differ between the
/// macro and the runtime.
#[doc(hidden)]
pub fn build_instance(family: Nested, args: &[ArgSpec]) -> Arc<Graph> {
    let Nested::Family(template) = family else {
        panic!("a model instance names no model family (mismatched mithril versions?)");
    };
    let name = template.name().to_string();
    let graph = mithril_core::family::bind(&name, &template.spec.params, args)
        .map_err(|e| e.into_iter().map(|e| e.message).collect::<Vec<_>>())
        .and_then(|values| {
            template
                .instance(&values)
                .map_err(|e| e.into_iter().map(|e| e.message).collect())
        });
    match graph {
        Ok(g) => g,
        Err(messages) => panic!(
            "an instance of `{name}` was accepted by model! but not by the runtime (mismatched mithril versions?): {}",
            messages.join("; ")
        ),
    }
}

/// Builds a model's graph at run time from the spec the macro checked
/// (called by generated code, once per model).
///
/// The macro ran the same `Graph::build` on the same spec while the crate
/// compiled, so this cannot fail unless the `mithril` crates' versions differ
/// between the macro and the runtime.
#[doc(hidden)]
pub fn build_graph(
    spec: &ModelSpec,
    nested: &[(&str, NestedFn)],
    customs: &[(&str, CustomHandle)],
) -> Arc<Graph> {
    let lookup = |name: &str| nested.iter().find(|(n, _)| *n == name).map(|(_, g)| g());
    let mut graph = match Graph::build(spec, &lookup) {
        Ok(g) => g,
        Err(errors) => {
            let messages: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
            panic!(
                "model `{}` was accepted by model! but not by the runtime (mismatched mithril versions?): {}",
                spec.name,
                messages.join("; ")
            )
        }
    };
    let missing = graph.attach_functions(&|path| {
        customs
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, h)| h.clone())
    });
    assert!(
        missing.is_empty(),
        "model `{}`: custom ops without a function: {missing:?}",
        spec.name
    );
    Arc::new(graph)
}

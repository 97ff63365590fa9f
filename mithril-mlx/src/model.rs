//! The traits that `model!` implements, and the glue its generated code calls.

use std::sync::Arc;

use mithril_core::graph::{Graph, ModelSpec, Nested};
use mithril_core::layers::CustomHandle;
use mlx_rs::Array;
use mlx_rs::error::Exception;

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

/// A tree of parameter arrays in a fixed order (the graph's weight order).
pub trait Params: Clone + Sized {
    /// Calls `f` on every array, in order.
    fn visit<'a>(&'a self, f: &mut dyn FnMut(&'a Array));
    /// Calls `f` on every array mutably, in order.
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Array));
    /// Takes arrays in order; `None` when there are too few.
    fn from_arrays(arrays: &mut dyn Iterator<Item = Array>) -> Option<Self>;

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
                .ok_or_else(|| Exception::custom("parameter trees differ"))?;
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

/// How generated code hands over a nested model's graph.
#[doc(hidden)]
pub type GraphFn = fn() -> &'static Arc<Graph>;

/// Builds a model's graph at run time from the spec the macro checked
/// (called by generated code, once per model).
///
/// The macro ran the same `Graph::build` on the same spec while the crate
/// compiled, so this cannot fail unless the `mithril` crates' versions differ
/// between the macro and the runtime.
#[doc(hidden)]
pub fn build_graph(
    spec: &ModelSpec,
    nested: &[(&str, GraphFn)],
    customs: &[(&str, CustomHandle)],
) -> Arc<Graph> {
    let lookup = |name: &str| {
        nested
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, g)| Nested::Model(Arc::clone(g())))
    };
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

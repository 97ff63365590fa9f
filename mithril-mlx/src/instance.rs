//! Model families instantiated with values known only at run time (a
//! `config.json` read at start-up): [`Instance`].
//!
//! `model!` generates, for each family, a `<Family>Config` struct with a
//! field per parameter and `<Family>::instance(&config)`. Building the
//! instance runs every shape rule on the instantiation before anything is
//! allocated; a mistake is an [`Error::Instantiation`] listing every
//! problem, each naming its layer, expected and found.

use std::marker::PhantomData;
use std::sync::Arc;

use mithril_core::args::{ArgSpec, ArgValue};
use mithril_core::family::{self, Template};
use mithril_core::graph::{Graph, Nested};

use crate::backend::MlxBackend;
use crate::compile::CompiledModel;
use crate::decode::Decoder;
use crate::error::{Error, Result};
use crate::model::Family;
use crate::run::{forward_graph, init_graph};

/// A model family instantiated at run time: its checked graph, with the
/// family's types.
pub struct Instance<F: Family> {
    graph: Arc<Graph>,
    family: PhantomData<F>,
}

impl<F: Family> Clone for Instance<F> {
    fn clone(&self) -> Self {
        Instance {
            graph: Arc::clone(&self.graph),
            family: PhantomData,
        }
    }
}

impl<F: Family> std::fmt::Debug for Instance<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("family", &F::NAME)
            .field("parameters", &self.graph.parameter_count())
            .finish()
    }
}

impl<F: Family> Instance<F> {
    /// Instantiates the family `nested` (a family's template) with `args`,
    /// checking every shape (called by generated code).
    #[doc(hidden)]
    pub fn build(nested: Nested, args: &[ArgSpec]) -> Result<Instance<F>> {
        let Nested::Family(template) = nested else {
            return Err(Error::Instantiation {
                call: F::NAME.to_string(),
                problems: vec![format!("`{}` is no model family", F::NAME)],
            });
        };
        let graph = instantiate(&template, args)?;
        Ok(Instance {
            graph,
            family: PhantomData,
        })
    }

    /// The checked graph.
    pub fn graph(&self) -> &Arc<Graph> {
        &self.graph
    }

    /// A table of every layer: name, call, output shape, parameter count,
    /// and totals.
    pub fn summary(&self) -> String {
        self.graph.summary()
    }

    /// The number of scalar parameters.
    pub fn parameter_count(&self) -> usize {
        self.graph.parameter_count()
    }

    /// Fresh parameters with mlx.nn's default initialisation, from the
    /// backend's seed and dtype.
    pub fn init(&self, backend: &MlxBackend) -> Result<F::Params> {
        init_graph::<F>(&self.graph, backend)
    }

    /// Runs the instance eagerly, after checking the inputs' shapes.
    pub fn forward(&self, params: &F::Params, inputs: &F::Inputs) -> Result<F::Outputs> {
        forward_graph::<F>(&self.graph, params, inputs)
    }

    /// Binds the instance to `backend`, as [`compile`](crate::compile) binds a model.
    pub fn compile(&self, backend: &MlxBackend) -> CompiledModel<F> {
        CompiledModel::new(Arc::clone(&self.graph), backend)
    }

    /// A KV-cache decoder of the instance with `params` for sequences of at
    /// most `context` positions, as [`Decoder::new`] makes for a model.
    pub fn decoder(
        &self,
        params: &F::Params,
        backend: &MlxBackend,
        context: usize,
    ) -> Result<Decoder<F>> {
        Decoder::for_graph(Arc::clone(&self.graph), params, backend, context)
    }
}

/// The graph of `template` with `args`, or every problem.
fn instantiate(template: &Template, args: &[ArgSpec]) -> Result<Arc<Graph>> {
    let name = template.name().to_string();
    let values =
        family::bind(&name, &template.spec.params, args).map_err(|found| Error::Instantiation {
            call: name.clone(),
            problems: found.into_iter().map(|e| e.message).collect(),
        })?;
    template
        .instance(&values)
        .map_err(|found| Error::Instantiation {
            call: family::call_text(&name, &values),
            problems: match found.is_empty() {
                true => vec!["a model it nests does not check".to_string()],
                false => found.into_iter().map(|e| e.message).collect(),
            },
        })
}

/// A config field's value as a family argument (called by generated code).
#[doc(hidden)]
pub trait ConfigValue {
    /// The value as a layer argument.
    fn arg_value(&self) -> ArgValue;
}

impl ConfigValue for usize {
    fn arg_value(&self) -> ArgValue {
        // Past i64 is past any size: the family's checks reject it.
        ArgValue::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ConfigValue for i64 {
    fn arg_value(&self) -> ArgValue {
        ArgValue::Int(*self)
    }
}

impl ConfigValue for f64 {
    fn arg_value(&self) -> ArgValue {
        ArgValue::Float(*self)
    }
}

impl ConfigValue for bool {
    fn arg_value(&self) -> ArgValue {
        ArgValue::Bool(*self)
    }
}

impl ConfigValue for String {
    fn arg_value(&self) -> ArgValue {
        match self.contains("::") {
            true => ArgValue::Path(self.clone().into()),
            false => ArgValue::Ident(self.clone().into()),
        }
    }
}

impl<T: ConfigValue> ConfigValue for Vec<T> {
    fn arg_value(&self) -> ArgValue {
        ArgValue::List(self.iter().map(T::arg_value).collect::<Vec<_>>().into())
    }
}

/// A named argument from a config field (called by generated code).
#[doc(hidden)]
pub fn config_arg(name: &'static str, value: &dyn ConfigValue) -> ArgSpec {
    ArgSpec {
        name: Some(name.into()),
        value: value.arg_value(),
    }
}

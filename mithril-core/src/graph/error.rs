//! What goes wrong: problems found while building a graph (with the
//! [`Site`] they are about) and concrete inputs that do not fit.

use std::fmt;

use crate::dim::Bindings;
use crate::shape::{BindError, Shape, display_bindings, display_sizes};

/// Where in a [`ModelSpec`](super::ModelSpec) a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    /// The model as a whole.
    Model,
    /// Input declaration `i`.
    Input(usize),
    /// The layer call of node `i`.
    Node(usize),
    /// Argument `arg` of node `node`.
    NodeArg {
        /// Node.
        node: usize,
        /// Argument index.
        arg: usize,
    },
    /// Input `input` of node `node`.
    NodeInput {
        /// Node.
        node: usize,
        /// Input index.
        input: usize,
    },
    /// The `=> name` of node `i`.
    NodeOutput(usize),
    /// Binding `binding` of node `node`'s `=> { output: name, .. }`.
    NodeBinding {
        /// Node.
        node: usize,
        /// Binding index.
        binding: usize,
    },
    /// The repeat count of node `i`.
    NodeRepeat(usize),
    /// Output `i` of the `output` list.
    Output(usize),
    /// The range of loop `i` (`for i in 0..n`).
    Loop(usize),
    /// The target (left) parameter of `share` statement `i`.
    ShareTarget(usize),
    /// The source (right) parameter of `share` statement `i`.
    ShareSource(usize),
}

/// A problem found while building a [`Graph`](super::Graph).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    /// Where.
    pub site: Site,
    /// What, in lowercase prose.
    pub message: String,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The problems of one build, in the order the passes found them.
#[derive(Debug, Default)]
pub(crate) struct Errors(pub(crate) Vec<BuildError>, bool);

impl Errors {
    pub(crate) fn push(&mut self, site: Site, message: impl Into<String>) {
        self.0.push(BuildError {
            site,
            message: message.into(),
        });
    }

    /// A failure reported elsewhere (a nested model that failed its own
    /// checks): the build fails without a further error.
    pub(crate) fn fail_silently(&mut self) {
        self.1 = true;
    }

    /// Whether anything failed, reported or not.
    pub(crate) fn failed(&self) -> bool {
        !self.0.is_empty() || self.1
    }
}

/// Concrete inputs that do not fit the declared shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputShapeError {
    /// The model.
    pub model: String,
    /// The input.
    pub input: String,
    /// Its declared shape.
    pub expected: Shape,
    /// What was given.
    pub found: Vec<usize>,
    /// Symbols bound by earlier inputs.
    pub bindings: Bindings,
    /// Why.
    pub reason: BindError,
}

impl fmt::Display for InputShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "input `{}`: expected {}, got {}",
            self.input,
            self.expected,
            display_sizes(&self.found)
        )?;
        match &self.reason {
            BindError::Rank => write!(
                f,
                " ({} axes, not {})",
                self.found.len(),
                self.expected.rank()
            ),
            BindError::Size { axis } => write!(f, " (axis {axis})"),
            BindError::Symbol {
                axis,
                symbol,
                bound,
            } => {
                write!(
                    f,
                    " (axis {axis}: `{symbol}` is already {bound} from an earlier input)"
                )
            }
        }?;
        if !self.bindings.is_empty() {
            write!(f, " with {}", display_bindings(&self.bindings))?;
        }
        Ok(())
    }
}

impl std::error::Error for InputShapeError {}

/// Concrete shapes that a layer rejects at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConcreteShapeError {
    /// An input does not fit its declaration.
    Input(InputShapeError),
    /// A layer's rule rejects the concrete sizes.
    Layer {
        /// The node.
        node: String,
        /// The rule's message.
        message: String,
    },
}

impl fmt::Display for ConcreteShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConcreteShapeError::Input(e) => e.fmt(f),
            ConcreteShapeError::Layer { node, message } => write!(f, "layer `{node}`: {message}"),
        }
    }
}

impl std::error::Error for ConcreteShapeError {}

//! The layer catalogue: each layer's arguments, shape rule and parameters.
//!
//! A layer is a struct implementing [`LayerRule`] in one of this module's
//! files (one per family), listed at the end of that file for
//! [`for_each_layer!`](crate::for_each_layer). The macro checks user models
//! with these rules while the crate compiles; the runtime runs the same
//! rules on concrete shapes. A backend adds one lowering per layer, in a
//! file of the same name.

mod activation;
mod attention;
mod buffer;
mod combine;
mod conv;
mod custom;
mod dense;
mod math;
mod norm;
mod pool;
mod recurrent;
mod reduce;
mod reshape;
mod select;
mod shape_ops;

pub use activation::*;
pub use attention::*;
pub use buffer::*;
pub use combine::*;
pub use conv::*;
pub use custom::*;
pub use dense::*;
pub use math::*;
pub use norm::*;
pub use pool::*;
pub use recurrent::*;
pub use reduce::*;
pub use reshape::*;
pub use select::*;
pub use shape_ops::*;

use crate::args::{ArgDef, ArgError, ArgSpec, Args};
use crate::shape::Shape;

/// How many inputs a layer takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exactly(usize),
    /// This many or more.
    AtLeast(usize),
}

impl Arity {
    /// Whether `n` inputs are accepted.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
        }
    }
}

impl std::fmt::Display for Arity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Arity::Exactly(1) => f.write_str("1 input"),
            Arity::Exactly(k) => write!(f, "{k} inputs"),
            Arity::AtLeast(k) => write!(f, "at least {k} inputs"),
        }
    }
}

/// An input of a layer as its shape rule sees it.
#[derive(Clone, Copy, Debug)]
pub struct Operand<'a> {
    /// How errors name it: "`h`" or "the output of `linear_1`".
    pub label: &'a str,
    /// Its shape.
    pub shape: &'a Shape,
}

/// A shape rule's verdict on inputs it cannot take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// Lowercase prose naming the layer, what it expected and what it found.
    pub message: String,
}

impl ShapeError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> ShapeError {
        ShapeError {
            message: message.into(),
        }
    }
}

/// How a parameter starts out (mlx.nn's default schemes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Uniform on `[-bound, bound]`.
    Uniform {
        /// The bound.
        bound: f64,
    },
    /// Normal with mean 0.
    Normal {
        /// The standard deviation.
        std: f64,
    },
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// Every element this value.
    Fill {
        /// The value.
        value: f64,
    },
}

/// The name of a weight that is the layer itself (a `buffer`): its path is
/// the layer's name (`centers`, not `centers.weight`) and its field in the
/// model's parameters is the array.
pub const LAYER_ITSELF: &str = "";

/// A parameter a layer owns.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightSpec {
    /// Its name within the layer, as mlx.nn names it: `weight`, `bias`
    /// ([`LAYER_ITSELF`] for a weight that is the layer).
    pub name: &'static str,
    /// Its shape; parameters always have known sizes.
    pub shape: Vec<usize>,
    /// Its initial values.
    pub init: Init,
    /// Trained by the optimizer (a parameter), or state the layer updates
    /// itself in training mode (a buffer, such as BatchNorm's running mean).
    pub trainable: bool,
}

impl WeightSpec {
    /// A trainable parameter.
    pub fn param(name: &'static str, shape: Vec<usize>, init: Init) -> WeightSpec {
        WeightSpec {
            name,
            shape,
            init,
            trainable: true,
        }
    }

    /// State updated by the layer itself in training mode, not by gradients.
    pub fn buffer(name: &'static str, shape: Vec<usize>, init: Init) -> WeightSpec {
        WeightSpec {
            name,
            shape,
            init,
            trainable: false,
        }
    }
}

/// The rules of one layer kind.
pub trait LayerRule: Sized + Clone + std::fmt::Debug + PartialEq {
    /// The name users write: `Linear`.
    const NAME: &'static str;
    /// Its arguments, in positional order.
    const ARGS: &'static [ArgDef];
    /// How many inputs it takes.
    const INPUTS: Arity = Arity::Exactly(1);
    /// One line for docs and `--help`.
    const SUMMARY: &'static str;
    /// The argument that names a Rust function the layer calls (a custom
    /// op), if any. The macro resolves its path where the model is defined
    /// and the backend attaches the function to the graph.
    const FUNCTION_ARG: Option<&'static str> = None;

    /// Reads the layer from its bound arguments.
    fn from_args(args: &Args<'_>) -> Result<Self, ArgError>;

    /// The output shape for these inputs, or why they do not fit.
    fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError>;

    /// The layer with symbols in its arguments replaced by bound values
    /// (only layers whose arguments can name symbols override this).
    fn bind(&self, _bindings: &crate::dim::Bindings) -> Self {
        self.clone()
    }

    /// The parameters it owns for these input shapes. Called after `infer`
    /// succeeded, and also without shapes (empty ones) for the outline of a
    /// model that failed: it must not panic then, and its weights' names must
    /// not depend on shapes (sizes it cannot read count as 1).
    fn weights(&self, _inputs: &[Shape]) -> Vec<WeightSpec> {
        Vec::new()
    }

    /// The function it calls (see [`LayerRule::FUNCTION_ARG`]), for the
    /// backend to attach.
    fn function_mut(&mut self) -> Option<&mut CustomFunction> {
        None
    }

    /// Whether running it in training mode draws random numbers, so that
    /// the backend must give the run a random key.
    fn draws_random_numbers(&self) -> bool {
        false
    }

    /// Whether running it in training mode updates its buffers (batch
    /// statistics), which the backend returns beside the outputs.
    fn updates_buffers(&self) -> bool {
        false
    }

    /// Whether it reads its first operand as integer indices (a lookup),
    /// which the backend checks before running.
    fn reads_indices(&self) -> bool {
        false
    }
}

fn bind_and_read<L: LayerRule>(args: &[ArgSpec]) -> Result<L, Vec<ArgError>> {
    let bound = Args::bind(L::NAME, L::ARGS, args)?;
    L::from_args(&bound).map_err(|e| vec![e])
}

/// Facts about a catalogue entry, for docs, errors and suggestions.
#[derive(Clone, Copy, Debug)]
pub struct LayerInfo {
    /// The name users write.
    pub name: &'static str,
    /// Its arguments.
    pub args: &'static [ArgDef],
    /// Its inputs.
    pub inputs: Arity,
    /// One line.
    pub summary: &'static str,
    /// The argument that names a Rust function, for custom ops.
    pub function_arg: Option<&'static str>,
}

macro_rules! catalogue {
    ($($layer:ident),* $(,)?) => {
        /// A built-in layer with its arguments.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Layer {
            $(
                #[doc = concat!("`", stringify!($layer), "`")]
                $layer($layer),
            )*
        }

        /// Every built-in layer.
        pub const CATALOGUE: &[LayerInfo] = &[
            $(LayerInfo {
                name: <$layer as LayerRule>::NAME,
                args: <$layer as LayerRule>::ARGS,
                inputs: <$layer as LayerRule>::INPUTS,
                summary: <$layer as LayerRule>::SUMMARY,
                function_arg: <$layer as LayerRule>::FUNCTION_ARG,
            },)*
        ];

        impl Layer {
            /// Reads the layer called `name` from its arguments; `None` when no
            /// built-in has that name.
            pub fn from_args(name: &str, args: &[ArgSpec]) -> Option<Result<Layer, Vec<ArgError>>> {
                match name {
                    $(<$layer as LayerRule>::NAME => Some(bind_and_read::<$layer>(args).map(Layer::$layer)),)*
                    _ => None,
                }
            }

            /// The name users write.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Layer::$layer(_) => <$layer as LayerRule>::NAME,)*
                }
            }

            /// How many inputs it takes.
            pub fn arity(&self) -> Arity {
                match self {
                    $(Layer::$layer(_) => <$layer as LayerRule>::INPUTS,)*
                }
            }

            /// The output shape for these inputs.
            pub fn infer(&self, inputs: &[Operand<'_>]) -> Result<Shape, ShapeError> {
                match self {
                    $(Layer::$layer(l) => l.infer(inputs),)*
                }
            }

            /// The layer with symbols in its arguments replaced by bound values.
            pub fn bind(&self, bindings: &crate::dim::Bindings) -> Layer {
                match self {
                    $(Layer::$layer(l) => Layer::$layer(l.bind(bindings)),)*
                }
            }

            /// The parameters it owns for these input shapes.
            pub fn weights(&self, inputs: &[Shape]) -> Vec<WeightSpec> {
                match self {
                    $(Layer::$layer(l) => l.weights(inputs),)*
                }
            }

            /// The function it calls, if it is a custom op.
            pub fn function_mut(&mut self) -> Option<&mut CustomFunction> {
                match self {
                    $(Layer::$layer(l) => l.function_mut(),)*
                }
            }

            /// Whether it draws random numbers in training mode.
            pub fn draws_random_numbers(&self) -> bool {
                match self {
                    $(Layer::$layer(l) => l.draws_random_numbers(),)*
                }
            }

            /// Whether it updates its buffers in training mode.
            pub fn updates_buffers(&self) -> bool {
                match self {
                    $(Layer::$layer(l) => l.updates_buffers(),)*
                }
            }

            /// Whether it reads its first operand as integer indices.
            pub fn reads_indices(&self) -> bool {
                match self {
                    $(Layer::$layer(l) => l.reads_indices(),)*
                }
            }
        }
    };
}

/// Calls `$callback! { Linear, Embedding, ... }` with every built-in layer,
/// gathered from the lists at the end of each family's file (so adding a
/// layer touches its own file only). The catalogue and backends' dispatch
/// are generated from it: a layer without a lowering does not compile.
#[macro_export]
macro_rules! for_each_layer {
    ($($callback:tt)*) => {
        $crate::__gather_layers! { [$($callback)*] [] [dense conv pool reshape shape_ops activation combine math select reduce custom buffer norm attention recurrent] }
    };
}

/// Appends each family's layers in turn, then calls the callback.
#[doc(hidden)]
#[macro_export]
macro_rules! __gather_layers {
    ([$($callback:tt)*] [$($layer:ident,)*] []) => {
        $($callback)*! { $($layer),* }
    };
    ([$($c:tt)*] [$($l:tt)*] [dense $($rest:ident)*]) => {
        $crate::__dense_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [conv $($rest:ident)*]) => {
        $crate::__conv_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [pool $($rest:ident)*]) => {
        $crate::__pool_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [reshape $($rest:ident)*]) => {
        $crate::__reshape_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [shape_ops $($rest:ident)*]) => {
        $crate::__shape_ops_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [activation $($rest:ident)*]) => {
        $crate::__activation_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [combine $($rest:ident)*]) => {
        $crate::__combine_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [math $($rest:ident)*]) => {
        $crate::__math_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [select $($rest:ident)*]) => {
        $crate::__select_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [buffer $($rest:ident)*]) => {
        $crate::__buffer_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [reduce $($rest:ident)*]) => {
        $crate::__reduce_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [custom $($rest:ident)*]) => {
        $crate::__custom_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [norm $($rest:ident)*]) => {
        $crate::__norm_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [attention $($rest:ident)*]) => {
        $crate::__attention_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
    ([$($c:tt)*] [$($l:tt)*] [recurrent $($rest:ident)*]) => {
        $crate::__recurrent_layers! { [$($c)*] [$($l)*] [$($rest)*] }
    };
}

for_each_layer!(catalogue);

/// The catalogue entry called `name`.
pub fn info(name: &str) -> Option<&'static LayerInfo> {
    CATALOGUE.iter().find(|l| l.name == name)
}

/// Checks the rank of a layer's single input.
pub(crate) fn expect_rank(
    layer: &str,
    input: &Operand<'_>,
    rank: usize,
    layout: &str,
) -> Result<(), ShapeError> {
    if input.shape.rank() == rank {
        Ok(())
    } else {
        Err(ShapeError::new(format!(
            "`{layer}` expects a rank-{rank} input {layout}, found {} with shape {}",
            input.label, input.shape
        )))
    }
}

/// The literal size of an axis that determines parameter shapes.
pub(crate) fn known_size(
    layer: &str,
    what: &str,
    input: &Operand<'_>,
    axis: usize,
) -> Result<usize, ShapeError> {
    input.shape.0[axis].as_lit().ok_or_else(|| {
        ShapeError::new(format!(
            "`{layer}` needs a known {what}, but {} has shape {} (axis {axis} is `{}`)",
            input.label, input.shape, input.shape.0[axis]
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::ArgValue;
    use std::borrow::Cow;

    /// Some arguments each layer accepts, found by trying common values for
    /// its required arguments (so a new layer needs no entry here).
    fn sample(info: &LayerInfo) -> Option<Layer> {
        sample_args(info).map(|(layer, _)| layer)
    }

    /// [`sample`] with the arguments that built it.
    fn sample_args(info: &LayerInfo) -> Option<(Layer, Vec<ArgSpec>)> {
        let candidates = [
            ArgValue::Int(4),
            ArgValue::Ident(Cow::Borrowed("f16")),
            ArgValue::List(Cow::Owned(vec![ArgValue::Int(1), ArgValue::Int(0)])),
            ArgValue::List(Cow::Owned(vec![ArgValue::Int(2), ArgValue::Int(-1)])),
            ArgValue::List(Cow::Owned(vec![ArgValue::Int(2), ArgValue::Int(3)])),
            ArgValue::Path(Cow::Borrowed("ops::f")),
        ];
        let required: Vec<&ArgDef> = info.args.iter().filter(|a| a.is_required()).collect();
        let combinations = candidates.len().pow(required.len() as u32);
        (0..combinations).find_map(|mut k| {
            let args: Vec<ArgSpec> = required
                .iter()
                .map(|def| {
                    let value = candidates[k % candidates.len()].clone();
                    k /= candidates.len();
                    ArgSpec {
                        name: Some(Cow::Borrowed(def.name)),
                        value,
                    }
                })
                .collect();
            let layer = Layer::from_args(info.name, &args)?.ok()?;
            Some((layer, args))
        })
    }

    #[test]
    fn weights_without_shapes_do_not_panic() {
        for info in CATALOGUE {
            let layer =
                sample(info).unwrap_or_else(|| panic!("no sample arguments build `{}`", info.name));
            for inputs in [vec![Shape::default()], vec![Shape::default(); 3]] {
                let weights = layer.weights(&inputs);
                // A weight that is the layer itself is its only weight.
                for w in &weights {
                    assert!(
                        w.name != LAYER_ITSELF || weights.len() == 1,
                        "{}",
                        info.name
                    );
                }
            }
        }
    }

    /// A rule reads a left-out argument as its declared default: writing
    /// the default gives the same layer as leaving it out, and the default
    /// is a value the rule accepts.
    #[test]
    fn defaults_read_as_declared() {
        let mut checked = 0;
        for info in CATALOGUE {
            let (left_out, args) = sample_args(info)
                .unwrap_or_else(|| panic!("no sample arguments build `{}`", info.name));
            for def in info.args {
                let Some(default) = def.default_value() else {
                    continue;
                };
                let mut written = args.clone();
                written.push(ArgSpec {
                    name: Some(Cow::Borrowed(def.name)),
                    value: default.clone(),
                });
                let built = Layer::from_args(info.name, &written).unwrap();
                assert_eq!(
                    built.as_ref(),
                    Ok(&left_out),
                    "`{}`: `{}` written as its default `{default}` reads differently from left out",
                    info.name,
                    def.name
                );
                checked += 1;
            }
        }
        assert!(checked > 40, "only {checked} defaults checked");
    }

    #[test]
    fn facts_live_on_the_rules() {
        let lambda = info("Lambda").unwrap();
        assert_eq!(lambda.function_arg, Some("function"));
        assert!(
            CATALOGUE
                .iter()
                .filter(|l| l.function_arg.is_some())
                .count()
                == 1
        );
        let dropout = |p: f64| {
            Layer::from_args(
                "Dropout",
                &[ArgSpec {
                    name: None,
                    value: ArgValue::Float(p),
                }],
            )
            .unwrap()
            .unwrap()
        };
        assert!(dropout(0.5).draws_random_numbers());
        assert!(!dropout(0.0).draws_random_numbers());
    }
}

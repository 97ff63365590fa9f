//! The syntax tree of `model!`, with the user's tokens kept for spans.

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Expr, Ident, LitInt, Path, Visibility};

/// `/// docs  pub Name(params) { statements }`, or an instantiation of a
/// family, `pub Name = Family(args);`.
pub struct ModelDef {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    /// The parameters, `(d: usize, heads: usize = 12)`: a model family.
    pub params: Vec<ParamDecl>,
    /// The parenthesised parameter list as written (for the signature).
    pub header: TokenStream,
    /// `= Family(args)`: a model that is an instantiation of a family.
    pub instance: Option<Call>,
    /// The block's `const` items as written, which its models may read
    /// (carried in signatures with the statements).
    pub consts: TokenStream,
    /// The statements as written, for the model's signature (other blocks
    /// rebuild its graph from them).
    pub body: TokenStream,
    pub stmts: Vec<Stmt>,
}

/// `pub const D: usize = 768;` in a `model!` block: a Rust constant the
/// block's models read while the crate compiles.
pub struct ConstDef {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    /// `usize`, `i64`, `f64` or `bool`.
    pub ty: Ident,
    pub kind: mithril_core::family::ParamType,
    pub value: Expr,
}

/// `heads: usize = 12` in a model's header.
pub struct ParamDecl {
    pub name: Ident,
    pub kind: mithril_core::family::ParamKind,
    pub default: Option<Expr>,
}

pub enum Stmt {
    /// `input x: [B, 784], y: [B, 10];`, or `static mask: [B, T];` (inputs
    /// kept out of gradients).
    Input(Vec<InputDecl>),
    /// `buffer centers: [8, 2], scale: [1] = 0.5;`
    Buffer(Vec<BufferDecl>),
    /// `output logits, probs;` (with the keyword's token)
    Output(Ident, Vec<Ident>),
    /// `x -> Linear(64) -> Relu => h;`
    Flow(Flow),
    /// `share head.weight = embed.weight;`
    Share(Share),
}

/// `share target = source;`: two parameter paths.
pub struct Share {
    pub target: ParamPath,
    pub source: ParamPath,
}

/// A dotted parameter path as written, `blocks.0.fc.weight`.
pub struct ParamPath {
    /// The segments, `r#` removed.
    pub segments: Vec<String>,
    /// The tokens, for errors.
    pub tokens: TokenStream,
}

impl ParamPath {
    /// The path as the graph names parameters: `blocks.0.fc.weight`.
    pub fn dotted(&self) -> String {
        self.segments.join(".")
    }
}

pub struct InputDecl {
    pub name: Ident,
    pub dims: Vec<DimTok>,
    pub span: Span,
    /// `false` for a `static` input.
    pub differentiable: bool,
}

/// `centers: [8, 2]` or `scale: [1] = 0.5` in a `buffer` statement.
pub struct BufferDecl {
    /// The whole declaration, for errors about the buffer.
    pub tokens: TokenStream,
    pub name: Ident,
    /// The bracketed shape as written.
    pub shape: TokenStream,
    pub dims: Vec<DimTok>,
    /// The initial value, after `=`.
    pub fill: Option<Number>,
}

/// A number as written, `0.5` or `-2`, with its value.
pub struct Number {
    pub tokens: TokenStream,
    pub value: f64,
}

/// An operand of a layer at the head of a flow: a named value, a number,
/// or an expression of the model's parameters (`1.0 / scale`).
pub enum Operand {
    Value(Ident),
    Literal(Number),
    Expr(Expr),
}

pub enum DimTok {
    Lit(LitInt),
    /// A symbol (`B`) or a parameter (`d`).
    Sym(Ident),
    /// An expression of parameters, `4 * d`.
    Expr(Expr),
}

pub struct Flow {
    pub head: Head,
    pub stages: Vec<Stage>,
    pub target: Target,
}

/// A pipeline stage: a layer, or a loop of stages.
pub enum Stage {
    Call(Call),
    Loop(Box<Loop>),
}

/// `for i in 0..len(dims) { fc: Linear(dims[i]) -> Relu }`
pub struct Loop {
    /// `for i in 0..len(dims)`, for errors about the range.
    pub header: TokenStream,
    pub var: Ident,
    pub start: Expr,
    pub end: Expr,
    pub body: Vec<Call>,
}

/// What a flow's result is called.
pub enum Target {
    /// `=> name`
    Name(Ident),
    /// `=> { hidden: h, cell }`: a nested model's outputs by name (an output
    /// alone names a value of its own name).
    Outputs(Vec<(Ident, Ident)>),
}

pub enum Head {
    /// A named value: `x -> ...`
    Value(Ident),
    /// A layer applied to named values: `Add(x, h) -> ...`
    Apply(Call),
}

/// `[name:] Layer[(args)] [* N]`, with inputs when it heads a flow.
pub struct Call {
    /// `checkpoint`, written before the call: each application's forward is
    /// recomputed in the backward pass rather than its intermediates kept.
    pub checkpoint: Option<Ident>,
    /// The call as written, `fc1: Linear(128)` or `Add(x, h)` (without the
    /// repeat), with the user's spans: errors about the layer point here.
    pub tokens: TokenStream,
    pub name: Option<Ident>,
    pub layer: Path,
    /// `acts[i]`: the index into a `[Layer]` parameter that chooses the layer.
    pub index: Option<Box<Expr>>,
    pub args: Vec<Arg>,
    /// Its operands at the head of a flow (`Add(x, h)`, `Multiply(x, 0.5)`);
    /// in a pipeline stage, the numbers that follow the previous value
    /// (`-> Multiply(0.5)`).
    pub inputs: Vec<Operand>,
    /// `* 3`, `* layers` or `* (n - 1)`.
    pub repeat: Option<Box<Expr>>,
}

pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

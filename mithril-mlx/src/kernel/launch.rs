//! [`Launch`]: what one launch of a [`Kernel`](super::Kernel) needs besides
//! its inputs.

use mlx_rs::Dtype;

/// A compile-time argument of a kernel: in the generated kernel,
/// `using NAME = <C type>;` for a dtype, `constexpr int NAME = ..;` or
/// `constexpr bool NAME = ..;`. Each distinct set compiles a kernel of its
/// own, cached by MLX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateArg {
    /// A type (`float`, `__nv_bfloat16`, `__half` in CUDA).
    Dtype(Dtype),
    /// An integer constant.
    Int(i32),
    /// A boolean constant.
    Bool(bool),
}

impl From<Dtype> for TemplateArg {
    fn from(d: Dtype) -> TemplateArg {
        TemplateArg::Dtype(d)
    }
}

impl From<i32> for TemplateArg {
    fn from(v: i32) -> TemplateArg {
        TemplateArg::Int(v)
    }
}

impl From<bool> for TemplateArg {
    fn from(v: bool) -> TemplateArg {
        TemplateArg::Bool(v)
    }
}

/// One launch of a kernel: the grid and thread group (in threads, as in
/// MLX: the grid counts threads, not blocks; CUDA gets
/// `ceil(grid / thread_group)` blocks of `thread_group` threads), the
/// outputs' shapes and dtypes (in the order of the kernel's output names),
/// the compile-time arguments, and optionally a value every output starts
/// with.
///
/// ```
/// use mithril_mlx::kernel::Launch;
/// use mithril_mlx::mlx_rs::Dtype;
/// // 4 rows of 256 threads each, one f32 output of 4 x 768.
/// let launch = Launch::new([4 * 256, 1, 1], [256, 1, 1])
///     .output(&[4, 768], Dtype::Float32)
///     .template("T", Dtype::Float32)
///     .template("N", 768);
/// assert_eq!(launch.outputs().len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Launch {
    pub(crate) grid: [usize; 3],
    pub(crate) thread_group: [usize; 3],
    pub(crate) outputs: Vec<(Vec<i32>, Dtype)>,
    pub(crate) template: Vec<(String, TemplateArg)>,
    pub(crate) init_value: Option<f32>,
    pub(crate) verbose: bool,
}

impl Launch {
    /// A launch of `grid` threads in groups of `thread_group`.
    pub fn new(grid: [usize; 3], thread_group: [usize; 3]) -> Launch {
        Launch {
            grid,
            thread_group,
            outputs: Vec::new(),
            template: Vec::new(),
            init_value: None,
            verbose: false,
        }
    }

    /// Adds the next output: its shape and dtype.
    pub fn output(mut self, shape: &[i32], dtype: Dtype) -> Launch {
        self.outputs.push((shape.to_vec(), dtype));
        self
    }

    /// Adds a compile-time argument.
    pub fn template(mut self, name: &str, value: impl Into<TemplateArg>) -> Launch {
        self.template.push((name.to_string(), value.into()));
        self
    }

    /// Fills every output with `value` before the kernel runs (for kernels
    /// that accumulate into their outputs).
    pub fn init_value(mut self, value: f32) -> Launch {
        self.init_value = Some(value);
        self
    }

    /// Prints the generated source when the kernel is compiled.
    pub fn verbose(mut self, verbose: bool) -> Launch {
        self.verbose = verbose;
        self
    }

    /// The outputs' shapes and dtypes.
    pub fn outputs(&self) -> &[(Vec<i32>, Dtype)] {
        &self.outputs
    }

    /// The compile-time arguments, in the order given.
    pub fn template_args(&self) -> &[(String, TemplateArg)] {
        &self.template
    }
}

//! The MLX calls mlx-rs 0.33 has no safe API for, wrapped safely: the error
//! handler that lets raw calls report MLX's messages, and the slice update
//! whose start is an array (what a KV cache writes through, so a compiled
//! decoding step is traced once for every position), MLX's `checkpoint` (a
//! function whose backward pass recomputes its forward), and the closures,
//! custom VJPs and custom GPU kernels that `kernel` builds on.
//! `distributed` uses the same error handler for MLX's collectives.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::Once;

use mlx_rs::error::Exception;
use mlx_rs::{Array, Stream};

unsafe extern "C" {
    /// mlx-rs 0.33's MLX error handler (exported unmangled): it keeps the
    /// message for mlx-rs's own error values.
    fn default_mlx_error_handler(msg: *const c_char, data: *mut c_void);
}

thread_local! {
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The message of the closure of ours that just failed, for MLX's next
    /// error report.
    static CLOSURE_FAILURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

extern "C" fn keep_error(msg: *const c_char, data: *mut c_void) {
    // A closure of ours that failed: MLX only says that it returned a
    // non-zero status; its own message goes on instead.
    let replaced = CLOSURE_FAILURE
        .with(|f| f.borrow_mut().take())
        .and_then(|m| std::ffi::CString::new(m).ok());
    let msg = replaced.as_ref().map_or(msg, |m| m.as_ptr());
    if !msg.is_null() {
        // SAFETY: MLX passes a NUL-terminated message valid for this call.
        let text = unsafe { CStr::from_ptr(msg) }
            .to_string_lossy()
            .into_owned();
        LAST_ERROR.with(|e| *e.borrow_mut() = Some(text));
    }
    // SAFETY: forwarding MLX's own arguments to mlx-rs's handler, so errors
    // of mlx-rs's operations keep their messages.
    unsafe { default_mlx_error_handler(msg, data) }
}

/// Routes MLX's error messages through [`keep_error`] as well, so raw calls
/// can report them ([`last_error`]).
pub(crate) fn install_error_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An mlx-rs operation first: mlx-rs installs its handler once, on
        // first use, and would otherwise replace this one later.
        let _ = Array::from_int(0).eval();
        // SAFETY: a plain function pointer, no data, no destructor.
        unsafe { mlx_sys::mlx_set_error_handler(Some(keep_error), std::ptr::null_mut(), None) }
    });
}

/// MLX's message for the raw call that just returned `status`.
pub(crate) fn last_error(status: i32) -> String {
    LAST_ERROR
        .with(|e| e.borrow_mut().take())
        .unwrap_or_else(|| format!("MLX returned status {status}"))
}

/// Runs a raw MLX call that sets one array; the array on success, MLX's
/// message (prefixed with `op`) on failure.
pub(crate) fn array_from(
    op: &str,
    call: impl FnOnce(*mut mlx_sys::mlx_array) -> i32,
) -> Result<Array, Exception> {
    install_error_handler();
    // SAFETY: a fresh array handle for MLX to set; freed on failure, owned
    // by the returned `Array` on success.
    unsafe {
        let mut out = mlx_sys::mlx_array_new();
        let status = call(&mut out);
        if status != 0 {
            mlx_sys::mlx_array_free(out);
            return Err(Exception::custom(format!("{op}: {}", last_error(status))));
        }
        Ok(Array::from_ptr(out))
    }
}

/// `src` with `update` written in from `start` along `axes` (`start` holds
/// one integer per axis), as `mx.slice_update(src, update, start, axes)`.
/// The start is an array, so a compiled closure reads it at every call
/// rather than baking it into its trace.
pub fn slice_update_dynamic(
    src: &Array,
    update: &Array,
    start: &Array,
    axes: &[i32],
) -> Result<Array, Exception> {
    let stream = Stream::thread_local_or_default();
    array_from("slice_update", |out| {
        // SAFETY: the arrays and stream are live handles for the call;
        // `axes` outlives it.
        unsafe {
            mlx_sys::mlx_slice_update_dynamic(
                out,
                src.as_ptr(),
                update.as_ptr(),
                start.as_ptr(),
                axes.as_ptr(),
                axes.len(),
                stream.as_ptr(),
            )
        }
    })
}

/// Whether the loaded MLX library was built with CUDA (the `mlx-cuda`
/// wheel).
pub(crate) fn cuda_available() -> bool {
    let mut available = false;
    // SAFETY: a plain query that writes one bool.
    unsafe { mlx_sys::mlx_cuda_is_available(&mut available) == 0 && available }
}

/// Whether `stream` runs on a GPU.
pub(crate) fn stream_on_gpu(stream: &Stream) -> bool {
    // SAFETY: a fresh device handle, set from a live stream, read and freed.
    unsafe {
        let mut device = mlx_sys::mlx_device_new();
        let mut kind = mlx_sys::mlx_device_type__MLX_CPU;
        let ok = mlx_sys::mlx_stream_get_device(&mut device, stream.as_ptr()) == 0
            && mlx_sys::mlx_device_get_type(&mut kind, device) == 0;
        mlx_sys::mlx_device_free(device);
        ok && kind == mlx_sys::mlx_device_type__MLX_GPU
    }
}

/// Records why a closure of ours failed, for the error MLX reports next
/// (see [`keep_error`]).
pub(crate) fn closure_failed(message: String) {
    install_error_handler();
    CLOSURE_FAILURE.with(|f| *f.borrow_mut() = Some(message));
}

/// An owned `mlx_vector_array` holding `arrays` (MLX takes its own
/// references).
struct VectorArray(mlx_sys::mlx_vector_array);

impl VectorArray {
    fn new<'a>(arrays: impl IntoIterator<Item = &'a Array>) -> VectorArray {
        let handles: Vec<mlx_sys::mlx_array> = arrays.into_iter().map(Array::as_ptr).collect();
        // SAFETY: the handles are live for the call; MLX copies them.
        unsafe {
            VectorArray(mlx_sys::mlx_vector_array_new_data(
                handles.as_ptr(),
                handles.len(),
            ))
        }
    }

    fn empty() -> VectorArray {
        // SAFETY: a fresh empty vector, freed on drop.
        VectorArray(unsafe { mlx_sys::mlx_vector_array_new() })
    }

    /// Its arrays, each a new reference.
    fn to_vec(&self) -> Result<Vec<Array>, Exception> {
        // SAFETY: indices below the vector's size; each array handle is
        // fresh and owned by the returned `Array`.
        unsafe {
            let n = mlx_sys::mlx_vector_array_size(self.0);
            (0..n)
                .map(|i| {
                    let mut a = mlx_sys::mlx_array_new();
                    if mlx_sys::mlx_vector_array_get(&mut a, self.0, i) != 0 {
                        mlx_sys::mlx_array_free(a);
                        return Err(Exception::custom("reading MLX's vector of arrays"));
                    }
                    Ok(Array::from_ptr(a))
                })
                .collect()
        }
    }
}

impl Drop for Closure {
    fn drop(&mut self) {
        // SAFETY: owned, freed once; MLX keeps the function alive while its
        // graphs use it.
        unsafe { mlx_sys::mlx_closure_free(self.0) };
    }
}

impl Drop for VectorArray {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { mlx_sys::mlx_vector_array_free(self.0) };
    }
}

/// A function of arrays that MLX may keep (in its graphs, its compiled
/// functions, its transforms) and call from any thread.
pub(crate) type ArraysFn = dyn Fn(&[Array]) -> Result<Vec<Array>, String> + Send + Sync;

/// A VJP function: `(primals, cotangents, outputs) -> one cotangent per primal`.
pub(crate) type VjpFn =
    dyn Fn(&[Array], &[Array], &[Array]) -> Result<Vec<Array>, String> + Send + Sync;

/// Runs `f` for MLX, turning an error or a panic into a failed status
/// whose message MLX then reports ([`closure_failed`]).
fn run_closure(
    ret: *mut mlx_sys::mlx_vector_array,
    f: impl FnOnce() -> Result<Vec<Array>, String>,
) -> i32 {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let failure = match outcome {
        Ok(Ok(arrays)) => {
            let out = VectorArray::new(&arrays);
            // SAFETY: `ret` is MLX's live vector handle for this call.
            let status = unsafe { mlx_sys::mlx_vector_array_set(ret, out.0) };
            if status == 0 {
                return 0;
            }
            "could not hand MLX the closure's results".to_string()
        }
        Ok(Err(message)) => message,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            format!("a closure panicked: {what}")
        }
    };
    closure_failed(failure);
    1
}

extern "C" fn arrays_trampoline(
    ret: *mut mlx_sys::mlx_vector_array,
    input: mlx_sys::mlx_vector_array,
    payload: *mut c_void,
) -> i32 {
    run_closure(ret, || {
        // SAFETY: the payload is the `Box<Arc<ArraysFn>>` made in
        // `closure`, alive while MLX holds the closure; the input vector is
        // borrowed for the call (not freed here).
        let f = unsafe { &*(payload as *const std::sync::Arc<ArraysFn>) };
        let input = std::mem::ManuallyDrop::new(VectorArray(input));
        let arrays = input.to_vec().map_err(|e| e.what().to_string())?;
        f(&arrays)
    })
}

extern "C" fn vjp_trampoline(
    ret: *mut mlx_sys::mlx_vector_array,
    primals: mlx_sys::mlx_vector_array,
    cotangents: mlx_sys::mlx_vector_array,
    outputs: mlx_sys::mlx_vector_array,
    payload: *mut c_void,
) -> i32 {
    run_closure(ret, || {
        // SAFETY: as in `arrays_trampoline`, for a `Box<Arc<VjpFn>>`.
        let f = unsafe { &*(payload as *const std::sync::Arc<VjpFn>) };
        let read = |v| {
            std::mem::ManuallyDrop::new(VectorArray(v))
                .to_vec()
                .map_err(|e| e.what().to_string())
        };
        f(&read(primals)?, &read(cotangents)?, &read(outputs)?)
    })
}

extern "C" fn drop_payload<T>(payload: *mut c_void) {
    // SAFETY: MLX calls this once, when the last copy of the closure goes,
    // with the `Box<T>` leaked when it was made.
    let _ = std::panic::catch_unwind(|| unsafe { drop(Box::from_raw(payload as *mut T)) });
}

/// An MLX closure (`mlx_closure`), freed on drop; MLX keeps its own
/// references to the function.
pub(crate) struct Closure(mlx_sys::mlx_closure);

// SAFETY: the closure's function is `Send + Sync`, and MLX's closure object
// is an immutable `std::function` behind a pointer.
unsafe impl Send for Closure {}
unsafe impl Sync for Closure {}

impl Closure {
    /// `f` as an MLX closure.
    pub(crate) fn new(f: std::sync::Arc<ArraysFn>) -> Closure {
        let payload = Box::into_raw(Box::new(f)) as *mut c_void;
        // SAFETY: the payload is freed by `drop_payload` once MLX lets go.
        Closure(unsafe {
            mlx_sys::mlx_closure_new_func_payload(
                Some(arrays_trampoline),
                payload,
                Some(drop_payload::<std::sync::Arc<ArraysFn>>),
            )
        })
    }

    /// `forward` with `backward` as its VJP (`mx.custom_function` with
    /// `.vjp`): MLX differentiates through the result with `backward`.
    pub(crate) fn with_vjp(
        forward: std::sync::Arc<ArraysFn>,
        backward: std::sync::Arc<VjpFn>,
    ) -> Result<Closure, Exception> {
        install_error_handler();
        let fun = Closure::new(forward);
        let payload = Box::into_raw(Box::new(backward)) as *mut c_void;
        // SAFETY: as in `new`; the custom closure is freed here, MLX keeps
        // its own copy inside the result.
        unsafe {
            let vjp = mlx_sys::mlx_closure_custom_new_func_payload(
                Some(vjp_trampoline),
                payload,
                Some(drop_payload::<std::sync::Arc<VjpFn>>),
            );
            let mut res = mlx_sys::mlx_closure_new();
            let status = mlx_sys::mlx_custom_vjp(&mut res, fun.0, vjp);
            mlx_sys::mlx_closure_custom_free(vjp);
            let res = Closure(res);
            if status != 0 {
                return Err(Exception::custom(format!(
                    "custom_vjp: {}",
                    last_error(status)
                )));
            }
            Ok(res)
        }
    }

    /// Applies the closure to `inputs`.
    pub(crate) fn apply(&self, inputs: &[&Array]) -> Result<Vec<Array>, Exception> {
        install_error_handler();
        let input = VectorArray::new(inputs.iter().copied());
        let mut out = VectorArray::empty();
        // SAFETY: live handles; MLX sets `out`'s vector.
        let status = unsafe { mlx_sys::mlx_closure_apply(&mut out.0, self.0, input.0) };
        if status != 0 {
            return Err(Exception::custom(last_error(status)));
        }
        out.to_vec()
    }
}

/// `mx.checkpoint(fun)(*inputs)`: the outputs of `fun` on `inputs`, whose
/// gradient MLX computes by running `fun` again in the backward pass
/// instead of keeping the intermediate values of the forward pass.
///
/// MLX keeps `fun` for that second run, after this call returns (while the
/// outputs' graph lives), so it owns what it reads: every array it computes
/// with must come in `inputs`, never be captured. Its error comes back as
/// this call's (a typed one through [`crate::error::raise`]).
pub(crate) fn checkpoint<F>(inputs: &[Array], fun: F) -> Result<Vec<Array>, Exception>
where
    F: Fn(&[Array]) -> Result<Vec<Array>, Exception> + Send + Sync + 'static,
{
    install_error_handler();
    let function = Closure::new(std::sync::Arc::new(move |args: &[Array]| {
        fun(args).map_err(|e| e.what().to_string())
    }));
    // SAFETY: a fresh handle, which MLX sets in place and `Closure` frees.
    let recomputed = unsafe {
        let mut res = mlx_sys::mlx_closure_new();
        let status = mlx_sys::mlx_checkpoint(&mut res, function.0);
        let res = Closure(res);
        if status != 0 {
            return Err(Exception::custom(format!(
                "checkpoint: {}",
                last_error(status)
            )));
        }
        res
    };
    recomputed.apply(&inputs.iter().collect::<Vec<_>>())
}

/// A compile-time argument of a custom kernel, as MLX's C API takes it.
pub(crate) enum RawTemplateArg<'a> {
    /// `using NAME = <C type of the dtype>;`
    Dtype(&'a CStr, mlx_rs::Dtype),
    /// `constexpr int NAME = VALUE;`
    Int(&'a CStr, i32),
    /// `constexpr bool NAME = VALUE;`
    Bool(&'a CStr, bool),
}

/// One launch of a custom kernel, as MLX's C API takes it.
pub(crate) struct RawLaunch<'a> {
    pub grid: [i32; 3],
    pub thread_group: [i32; 3],
    pub outputs: &'a [(Vec<i32>, mlx_rs::Dtype)],
    pub template: Vec<RawTemplateArg<'a>>,
    pub init_value: Option<f32>,
    pub verbose: bool,
}

/// The custom-kernel calls of one GPU backend, which MLX's C API spells
/// alike but for their prefix (`mlx_fast_cuda_kernel_*`,
/// `mlx_fast_metal_kernel_*`): a kernel handle, built once, and its launch.
macro_rules! gpu_kernel {
    ($(#[$meta:meta])* $name:ident, $kernel:ty, $config:ty, $new:path, $free:path, $apply:path,
     $config_new:path, $config_free:path, $add_output:path, $grid:path, $group:path,
     $init:path, $verbose:path, $t_dtype:path, $t_int:path, $t_bool:path, $last:ident: $last_ty:ty) => {
        $(#[$meta])*
        pub(crate) struct $name($kernel);

        // SAFETY: MLX's kernel object is an immutable function object
        // (names and source captured by value) behind a pointer.
        unsafe impl Send for $name {}
        unsafe impl Sync for $name {}

        impl $name {
            /// MLX's kernel for this source; MLX's message if it refuses
            /// (the CPU build refuses every CUDA kernel here).
            pub(crate) fn new(
                name: &CStr,
                input_names: &[CString],
                output_names: &[CString],
                source: &CStr,
                header: &CStr,
                ensure_row_contiguous: bool,
                $last: $last_ty,
            ) -> Result<$name, String> {
                install_error_handler();
                // SAFETY: the strings are NUL-terminated and outlive the
                // call (MLX copies them); the string vectors are freed here.
                unsafe {
                    let names = |list: &[CString]| {
                        let v = mlx_sys::mlx_vector_string_new();
                        for n in list {
                            mlx_sys::mlx_vector_string_append_value(v, n.as_ptr());
                        }
                        v
                    };
                    let (inputs, outputs) = (names(input_names), names(output_names));
                    let kernel = $new(
                        name.as_ptr(),
                        inputs,
                        outputs,
                        source.as_ptr(),
                        header.as_ptr(),
                        ensure_row_contiguous,
                        $last,
                    );
                    mlx_sys::mlx_vector_string_free(inputs);
                    mlx_sys::mlx_vector_string_free(outputs);
                    if kernel.ctx.is_null() {
                        return Err(last_error(1));
                    }
                    Ok($name(kernel))
                }
            }

            /// Launches the kernel on `stream`: its outputs, or MLX's message.
            pub(crate) fn apply(
                &self,
                inputs: &[&Array],
                launch: &RawLaunch<'_>,
                stream: &Stream,
            ) -> Result<Vec<Array>, String> {
                install_error_handler();
                // SAFETY: a fresh configuration, filled from live values and
                // freed here; the arrays are live for the call.
                unsafe {
                    let config = $config_new();
                    let fill = || -> i32 {
                        for (shape, dtype) in launch.outputs {
                            let s = $add_output(config, shape.as_ptr(), shape.len(), u32::from(*dtype));
                            if s != 0 {
                                return s;
                            }
                        }
                        let [g1, g2, g3] = launch.grid;
                        let [t1, t2, t3] = launch.thread_group;
                        let mut s = $grid(config, g1, g2, g3) | $group(config, t1, t2, t3);
                        if let Some(v) = launch.init_value {
                            s |= $init(config, v);
                        }
                        s |= $verbose(config, launch.verbose);
                        for arg in &launch.template {
                            s |= match arg {
                                RawTemplateArg::Dtype(n, d) => $t_dtype(config, n.as_ptr(), u32::from(*d)),
                                RawTemplateArg::Int(n, v) => $t_int(config, n.as_ptr(), *v),
                                RawTemplateArg::Bool(n, v) => $t_bool(config, n.as_ptr(), *v),
                            };
                        }
                        s
                    };
                    let status = fill();
                    if status != 0 {
                        $config_free(config);
                        return Err(last_error(status));
                    }
                    let input = VectorArray::new(inputs.iter().copied());
                    let mut out = VectorArray::empty();
                    let status = $apply(&mut out.0, self.0, input.0, config, stream.as_ptr());
                    $config_free(config);
                    if status != 0 {
                        return Err(last_error(status));
                    }
                    out.to_vec().map_err(|e| e.what().to_string())
                }
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                // SAFETY: owned, freed once; launched kernels keep their own
                // compiled copy.
                unsafe { $free(self.0) }
            }
        }
    };
}

gpu_kernel!(
    /// A CUDA kernel (`mx.fast.cuda_kernel`).
    CudaKernel,
    mlx_sys::mlx_fast_cuda_kernel,
    mlx_sys::mlx_fast_cuda_kernel_config,
    mlx_sys::mlx_fast_cuda_kernel_new,
    mlx_sys::mlx_fast_cuda_kernel_free,
    mlx_sys::mlx_fast_cuda_kernel_apply,
    mlx_sys::mlx_fast_cuda_kernel_config_new,
    mlx_sys::mlx_fast_cuda_kernel_config_free,
    mlx_sys::mlx_fast_cuda_kernel_config_add_output_arg,
    mlx_sys::mlx_fast_cuda_kernel_config_set_grid,
    mlx_sys::mlx_fast_cuda_kernel_config_set_thread_group,
    mlx_sys::mlx_fast_cuda_kernel_config_set_init_value,
    mlx_sys::mlx_fast_cuda_kernel_config_set_verbose,
    mlx_sys::mlx_fast_cuda_kernel_config_add_template_arg_dtype,
    mlx_sys::mlx_fast_cuda_kernel_config_add_template_arg_int,
    mlx_sys::mlx_fast_cuda_kernel_config_add_template_arg_bool,
    shared_memory: i32
);

#[cfg(target_os = "macos")]
gpu_kernel!(
    /// A Metal kernel (`mx.fast.metal_kernel`).
    MetalKernel,
    mlx_sys::mlx_fast_metal_kernel,
    mlx_sys::mlx_fast_metal_kernel_config,
    mlx_sys::mlx_fast_metal_kernel_new,
    mlx_sys::mlx_fast_metal_kernel_free,
    mlx_sys::mlx_fast_metal_kernel_apply,
    mlx_sys::mlx_fast_metal_kernel_config_new,
    mlx_sys::mlx_fast_metal_kernel_config_free,
    mlx_sys::mlx_fast_metal_kernel_config_add_output_arg,
    mlx_sys::mlx_fast_metal_kernel_config_set_grid,
    mlx_sys::mlx_fast_metal_kernel_config_set_thread_group,
    mlx_sys::mlx_fast_metal_kernel_config_set_init_value,
    mlx_sys::mlx_fast_metal_kernel_config_set_verbose,
    mlx_sys::mlx_fast_metal_kernel_config_add_template_arg_dtype,
    mlx_sys::mlx_fast_metal_kernel_config_add_template_arg_int,
    mlx_sys::mlx_fast_metal_kernel_config_add_template_arg_bool,
    atomic_outputs: bool
);

//! The MLX calls mlx-rs 0.33 has no safe API for, wrapped safely: the error
//! handler that lets raw calls report MLX's messages, the slice update
//! whose start is an array (what a KV cache writes through, so a compiled
//! decoding step is traced once for every position), and MLX's
//! `checkpoint` (a function whose backward pass recomputes its forward).
//! `distributed` uses the same error handler for MLX's collectives.

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
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
}

extern "C" fn keep_error(msg: *const c_char, data: *mut c_void) {
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

thread_local! {
    /// Why the Rust function of a [`checkpoint`] failed, for the caller
    /// (MLX reports only that the function returned non-zero).
    static FUNCTION_FAILURE: RefCell<Option<Exception>> = const { RefCell::new(None) };
}

/// `mx.checkpoint(fun)(*inputs)`: the outputs of `fun` on `inputs`, whose
/// gradient MLX computes by running `fun` again in the backward pass
/// instead of keeping the intermediate values of the forward pass.
///
/// MLX keeps `fun` for that second run, after this call returns (while the
/// outputs' graph lives), so it owns what it reads: every array it computes
/// with must come in `inputs`, never be captured.
pub fn checkpoint<F>(inputs: &[Array], fun: F) -> Result<Vec<Array>, Exception>
where
    F: FnMut(&[Array]) -> Result<Vec<Array>, Exception> + Send + 'static,
{
    install_error_handler();
    FUNCTION_FAILURE.with(|f| f.borrow_mut().take());
    let payload = Box::into_raw(Box::new(fun)).cast::<c_void>();
    // SAFETY: `payload` is a boxed `F`, which `call_function::<F>` reads and
    // `drop_function::<F>` frees once MLX drops its last copy of the closure.
    // Every handle made here is freed by its guard; the closures and vectors
    // MLX returns hold their own references to what they contain.
    unsafe {
        let function = Handle(
            mlx_sys::mlx_closure_new_func_payload(
                Some(call_function::<F>),
                payload,
                Some(drop_function::<F>),
            ),
            free_closure,
        );
        // MLX sets an empty handle by filling it in place: the guard frees
        // what it was set to.
        let mut recomputed = Handle(mlx_sys::mlx_closure_new(), free_closure);
        let status = mlx_sys::mlx_checkpoint(&mut recomputed.0, function.0);
        if status != 0 {
            return Err(failure(status));
        }
        let pointers: Vec<mlx_sys::mlx_array> = inputs.iter().map(Array::as_ptr).collect();
        let args = Handle(
            mlx_sys::mlx_vector_array_new_data(pointers.as_ptr(), pointers.len()),
            free_vector,
        );
        let mut out = Handle(mlx_sys::mlx_vector_array_new(), free_vector);
        let status = mlx_sys::mlx_closure_apply(&mut out.0, recomputed.0, args.0);
        if status != 0 {
            return Err(failure(status));
        }
        vector_arrays(out.0)
    }
}

/// A raw MLX handle freed when it goes out of scope.
struct Handle<T: Copy>(T, unsafe fn(T));

impl<T: Copy> Drop for Handle<T> {
    fn drop(&mut self) {
        // SAFETY: each handle is made once and freed here once.
        unsafe { (self.1)(self.0) }
    }
}

unsafe fn free_closure(c: mlx_sys::mlx_closure) {
    // SAFETY: a live closure handle (see `Handle`).
    unsafe { mlx_sys::mlx_closure_free(c) };
}

unsafe fn free_vector(v: mlx_sys::mlx_vector_array) {
    // SAFETY: a live vector handle (see `Handle`).
    unsafe { mlx_sys::mlx_vector_array_free(v) };
}

/// The failure of a raw call in [`checkpoint`]: the function's own error
/// where it failed, else MLX's message.
fn failure(status: i32) -> Exception {
    let message = last_error(status);
    FUNCTION_FAILURE
        .with(|f| f.borrow_mut().take())
        .unwrap_or_else(|| Exception::custom(format!("checkpoint: {message}")))
}

/// The arrays of an MLX vector, each its own reference.
///
/// # Safety
/// `vector` is a live vector handle.
unsafe fn vector_arrays(vector: mlx_sys::mlx_vector_array) -> Result<Vec<Array>, Exception> {
    // SAFETY: `vector` is live (the caller's promise); each index is in range.
    let len = unsafe { mlx_sys::mlx_vector_array_size(vector) };
    (0..len)
        .map(|i| {
            array_from("checkpoint", |out| unsafe {
                mlx_sys::mlx_vector_array_get(out, vector, i)
            })
        })
        .collect()
}

/// MLX's call of a [`checkpoint`]'s function: reads the arguments, runs
/// the boxed `F`, appends its outputs to `out`. A failure (or panic) is kept
/// for [`failure`] and reported to MLX as a non-zero status.
unsafe extern "C" fn call_function<F>(
    out: *mut mlx_sys::mlx_vector_array,
    args: mlx_sys::mlx_vector_array,
    payload: *mut c_void,
) -> c_int
where
    F: FnMut(&[Array]) -> Result<Vec<Array>, Exception>,
{
    let run = AssertUnwindSafe(|| -> Result<(), Exception> {
        // SAFETY: `payload` is the boxed `F` made in `checkpoint`, alive
        // while MLX holds the closure; MLX passes live vectors.
        unsafe {
            let fun = &mut *payload.cast::<F>();
            let outputs = fun(&vector_arrays(args)?)?;
            let pointers: Vec<mlx_sys::mlx_array> = outputs.iter().map(Array::as_ptr).collect();
            // `out` is an empty handle, which MLX frees after the call: it
            // becomes a new vector holding its own references.
            *out = mlx_sys::mlx_vector_array_new_data(pointers.as_ptr(), pointers.len());
            Ok(())
        }
    });
    let error = match catch_unwind(run) {
        Ok(Ok(())) => return 0,
        Ok(Err(e)) => e,
        Err(_) => Exception::custom("a checkpointed function panicked"),
    };
    FUNCTION_FAILURE.with(|f| *f.borrow_mut() = Some(error));
    1
}

/// Frees a [`checkpoint`]'s boxed function once MLX no longer holds it.
unsafe extern "C" fn drop_function<F>(payload: *mut c_void) {
    // SAFETY: `payload` is the `Box<F>` leaked in `checkpoint`, freed once.
    // A panic in a destructor must not cross into C.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        drop(Box::from_raw(payload.cast::<F>()));
    }));
}

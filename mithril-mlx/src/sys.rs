//! The MLX calls mlx-rs 0.33 has no safe API for, wrapped safely: the error
//! handler that lets raw calls report MLX's messages, and the slice update
//! whose start is an array (what a KV cache writes through, so a compiled
//! decoding step is traced once for every position). `distributed` uses
//! the same error handler for MLX's collectives.

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_void};
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

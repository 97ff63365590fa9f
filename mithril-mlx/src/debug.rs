//! Debugging aids: MLX's own listing of the operations a computation lowered
//! to, and NaN/Inf checks (see [`crate::tensor::check_finite`]).

use std::io::Read;
use std::os::fd::FromRawFd;

use mlx_rs::Array;

use crate::error::{Error, Result};

/// MLX's listing of the primitive operations that compute `outputs` (which
/// must not be evaluated yet), one per line, with `names` given to chosen
/// arrays (inputs, parameters) so the listing refers to them.
pub fn print_graph(outputs: &[&Array], names: &[(&Array, &str)]) -> Result<String> {
    let failed = |what: &str| Error::Config {
        option: "verbose",
        reason: format!("mlx could not {what}"),
    };
    // SAFETY: every handle created here is freed before returning; the FILE is
    // a private temporary file whose descriptor is handed to a std File,
    // which closes it.
    unsafe {
        let namer = mlx_sys::mlx_node_namer_new();
        let vec = mlx_sys::mlx_vector_array_new();
        let mut status = 0;
        for (array, name) in names {
            let c_name = std::ffi::CString::new(*name).map_err(|_| failed("name an array"))?;
            status |= mlx_sys::mlx_node_namer_set_name(namer, array.as_ptr(), c_name.as_ptr());
        }
        for array in outputs {
            status |= mlx_sys::mlx_vector_array_append_value(vec, array.as_ptr());
        }
        let file = libc::tmpfile();
        if file.is_null() {
            mlx_sys::mlx_vector_array_free(vec);
            mlx_sys::mlx_node_namer_free(namer);
            return Err(failed("open a temporary file"));
        }
        status |= mlx_sys::mlx_print_graph(file.cast(), namer, vec);
        libc::fflush(file);
        let fd = libc::dup(libc::fileno(file));
        libc::fclose(file);
        mlx_sys::mlx_vector_array_free(vec);
        mlx_sys::mlx_node_namer_free(namer);
        if status != 0 || fd < 0 {
            return Err(failed("print the graph"));
        }
        let mut text = String::new();
        let mut f = std::fs::File::from_raw_fd(fd);
        use std::io::Seek;
        f.seek(std::io::SeekFrom::Start(0))
            .map_err(|source| Error::Io {
                path: "<tmpfile>".into(),
                source,
            })?;
        f.read_to_string(&mut text).map_err(|source| Error::Io {
            path: "<tmpfile>".into(),
            source,
        })?;
        Ok(text)
    }
}

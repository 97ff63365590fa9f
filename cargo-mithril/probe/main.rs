//! Setup's check of a fresh install: a program linked the way user crates
//! are (mlx-sys's build script replaced by the install) that multiplies two
//! matrices through mlx-c and reports MLX's version and the BLAS it loaded.

use std::ffi::CStr;
use std::process::ExitCode;

use mlx_sys::*;

const N: usize = 192;

fn main() -> ExitCode {
    let a: Vec<f32> = (0..N * N).map(|i| ((i % 7) as f32 - 3.0) / 4.0).collect();
    let b: Vec<f32> = (0..N * N).map(|i| ((i % 5) as f32 - 2.0) / 3.0).collect();
    let shape = [N as i32, N as i32];
    // SAFETY: mlx-c's C API, used as documented: arrays are created from
    // buffers that outlive them, evaluated before their data is read, freed once.
    let (version, product) = unsafe {
        let mut text = mlx_string_new();
        mlx_version(&mut text);
        let version = CStr::from_ptr(mlx_string_data(text))
            .to_string_lossy()
            .into_owned();
        mlx_string_free(text);
        let stream = mlx_default_cpu_stream_new();
        let a_arr =
            mlx_array_new_data(a.as_ptr().cast(), shape.as_ptr(), 2, mlx_dtype__MLX_FLOAT32);
        let b_arr =
            mlx_array_new_data(b.as_ptr().cast(), shape.as_ptr(), 2, mlx_dtype__MLX_FLOAT32);
        let mut c_arr = mlx_array_new();
        if mlx_matmul(&mut c_arr, a_arr, b_arr, stream) != 0 || mlx_array_eval(c_arr) != 0 {
            eprintln!("mlx_matmul failed");
            return ExitCode::FAILURE;
        }
        let product = std::slice::from_raw_parts(mlx_array_data_float32(c_arr), N * N).to_vec();
        for array in [a_arr, b_arr, c_arr] {
            mlx_array_free(array);
        }
        mlx_stream_free(stream);
        (version, product)
    };
    for (row, col) in [(0, 0), (17, 101), (N - 1, N - 1)] {
        let expected: f32 = (0..N).map(|k| a[row * N + k] * b[k * N + col]).sum();
        let got = product[row * N + col];
        if (got - expected).abs() > 1e-3 * expected.abs().max(1.0) {
            eprintln!("matmul[{row}, {col}] = {got}, expected {expected}");
            return ExitCode::FAILURE;
        }
    }
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let blas = if maps.contains("openblas") {
        "openblas"
    } else {
        "other"
    };
    println!("mithril-probe mlx={version} matmul=ok blas={blas}");
    ExitCode::SUCCESS
}

//! The rustc wrapper for setup's one build of mlx-sys.
//!
//! mlx-sys's build script always asks for `static=mlx`, `static=gguflib`,
//! `c++`, `dylib=objc` and `framework=Foundation`, which suits its macOS
//! build from source. With the wheel's MLX on Linux, libmlx is a shared
//! library with gguf inside, libstdc++ is the C++ runtime, and rustc rejects
//! `framework` off Apple. Setup runs that build once, with this binary as
//! `RUSTC_WRAPPER`, to get mlx-sys's bindings and libmlxc.a; user crates
//! never run mlx-sys's build script (their cargo configuration overrides it),
//! so they need no wrapper.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

/// Set by setup on its mlx-sys build: the directory holding libmlx.so.
pub const WRAPPER_ENV: &str = "MITHRIL_SETUP_WRAP_RUSTC";

/// In wrapper mode, runs rustc with mlx-sys's link lines rewritten and
/// returns its exit code; otherwise `None`.
pub fn run_if_wrapping() -> Option<ExitCode> {
    let mlx_lib = std::env::var_os(WRAPPER_ENV)?;
    let mut args = std::env::args_os().skip(1);
    let rustc = args.next()?;
    let args: Vec<OsString> = args.collect();
    let args = if is_mlx_sys(&args) {
        rewrite_mlx_sys(args, &mlx_lib)
    } else {
        args
    };
    let status = Command::new(rustc).args(args).status();
    Some(match status {
        Ok(s) => ExitCode::from(s.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("cargo-mithril (rustc wrapper): could not run rustc: {e}");
            ExitCode::FAILURE
        }
    })
}

fn is_mlx_sys(args: &[OsString]) -> bool {
    args.windows(2)
        .any(|w| w[0] == "--crate-name" && w[1] == "mlx_sys")
}

/// The library a `-l` value names, rewritten for the wheel's MLX (`None`: drop it).
fn rewrite_lib(value: &str) -> Option<&str> {
    match value {
        "static=mlx" => Some("dylib=mlx"),
        "c++" => Some("stdc++"),
        "static=gguflib" | "dylib=objc" | "objc" => None,
        v if v.starts_with("framework=") => None,
        v => Some(v),
    }
}

fn rewrite_mlx_sys(args: Vec<OsString>, mlx_lib: &OsString) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len() + 2);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        if text == "-l" {
            let Some(value) = args.next() else {
                out.push(arg);
                break;
            };
            if let Some(lib) = rewrite_lib(&value.to_string_lossy()) {
                out.push("-l".into());
                out.push(lib.into());
            }
        } else if let Some(value) = text.strip_prefix("-l") {
            if let Some(lib) = rewrite_lib(value) {
                out.push(format!("-l{lib}").into());
            }
        } else {
            out.push(arg);
        }
    }
    out.push("-L".into());
    let mut native = OsString::from("native=");
    native.push(mlx_lib);
    out.push(native);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn mlx_sys_link_lines_are_rewritten_for_the_wheel() {
        let args = strings(&[
            "--crate-name",
            "mlx_sys",
            "-l",
            "static=mlx",
            "-l",
            "static=mlxc",
            "-lstatic=gguflib",
            "-l",
            "c++",
            "-l",
            "dylib=objc",
            "-l",
            "framework=Foundation",
            "--cfg",
            "x",
        ]);
        assert!(is_mlx_sys(&args));
        let out = rewrite_mlx_sys(args, &OsString::from("/opt/mlx/lib"));
        assert_eq!(
            out,
            strings(&[
                "--crate-name",
                "mlx_sys",
                "-l",
                "dylib=mlx",
                "-l",
                "static=mlxc",
                "-l",
                "stdc++",
                "--cfg",
                "x",
                "-L",
                "native=/opt/mlx/lib",
            ])
        );
    }

    #[test]
    fn other_crates_are_not_mlx_sys() {
        assert!(!is_mlx_sys(&strings(&[
            "--crate-name",
            "mlx_rs",
            "-l",
            "c++"
        ])));
    }
}

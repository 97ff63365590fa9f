//! On Linux the crate's cargo configuration (written by `cargo mithril init`
//! or `new`) replaces mlx-sys's build script by an MLX install; it names that
//! install to us as `DEP_MLX_MITHRIL_INSTALL`. Check it here, so that a
//! missing, partial or mismatched install is one message naming the command
//! that fixes it, rather than link or include errors. Elsewhere (macOS, where
//! mlx-sys builds MLX itself) there is nothing to check.

use std::path::Path;

fn main() {
    println!("cargo::rerun-if-env-changed=DEP_MLX_MITHRIL_INSTALL");
    let Some(install) = std::env::var_os("DEP_MLX_MITHRIL_INSTALL") else {
        return;
    };
    let install = Path::new(&install);
    println!(
        "cargo::rerun-if-changed={}",
        install.join(mithril_install::MANIFEST_NAME).display()
    );
    if let Err(problem) = mithril_install::check(install) {
        println!(
            "cargo::error=MLX for mithril at {} (named by this project's .cargo/config.toml) is {problem}: run `{}`",
            install.display(),
            problem.fix()
        );
    }
}

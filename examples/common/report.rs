//! What the examples print: numbers for people, and the verdict of a
//! `--quick` run.

/// `12345` as `12,345`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The verdict of a `--quick` run (nothing without `--quick`): prints
/// `quick check: WHAT: ok` or `FAILED`, and fails the example in the latter case.
pub fn quick_check(quick: bool, ok: bool, what: &str) -> Result<(), super::Error> {
    if !quick {
        return Ok(());
    }
    println!("quick check: {what}: {}", if ok { "ok" } else { "FAILED" });
    match ok {
        true => Ok(()),
        false => Err(format!("quick check failed: {what}").into()),
    }
}

/// On a GPU whose MLX has compiled no kernel yet (the first run on a
/// machine), says so: MLX compiles its CUDA kernels as the first steps use
/// them, which takes about a minute, once.
pub fn first_run_notice(backend: &mithril::MlxBackend) {
    if backend.device() != mithril::Device::Gpu {
        return;
    }
    if let Some(cache) = mithril::runtime_info()
        .kernel_cache()
        .filter(|c| c.is_empty())
    {
        println!(
            "first run on this machine: MLX compiles its GPU kernels as they are first used (about a minute, once; cached in {})",
            cache.dir.display()
        );
    }
}

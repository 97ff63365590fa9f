//! placeholder
pub use mlx_rs;

/// mlx-rs 0.33 seeds its default random key with macOS's
/// `mach_approximate_time()`; off Apple nothing defines it, so we do.
#[cfg(not(target_vendor = "apple"))]
#[unsafe(no_mangle)]
pub extern "C" fn mach_approximate_time() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

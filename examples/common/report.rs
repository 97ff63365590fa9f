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

//! The safetensors readers against damaged files: a checkpoint
//! (`Checkpoint::load`) and a parameter file (`io::load_params`), each
//! truncated at every length, with every single bit flipped (checkpoint) or
//! seeded random flips (parameters), with random bytes overwritten, and
//! with oversized or lying headers. Every case must be a typed error (never
//! a panic), a damaged checkpoint must never load, and the memory a read
//! allocates is measured (a counting allocator, per thread) and must stay
//! within a small multiple of the file's size: no length field is trusted
//! before it is checked against the file.

#[path = "common/training_run.rs"]
mod training_run;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};

use mithril::checkpoint::Checkpoint;
use mithril::io::{load_params, save_params};
use mithril::prelude::*;
use training_run::{Run, Tiny, contents};

// ---------------------------------------------------------------------------
// Memory: bytes allocated and not yet freed on this thread, and their peak.

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // `try_with`: allocations while a thread is torn down go uncounted.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        track(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `f`'s result and the most memory it held at once beyond what was live
/// before it (this thread's Rust allocations; MLX's are not counted, and
/// failing reads never reach MLX).
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, (PEAK.with(Cell::get) - base).max(0) as usize)
}

/// The bound every read must keep: a few copies of the file and a little
/// bookkeeping. Reading whole files is the design (they are parsed and
/// checksummed in memory), so the bound is linear in the file's size.
fn bound(file_len: usize) -> usize {
    4 * file_len + 64 * 1024
}

// ---------------------------------------------------------------------------
// Cases.

/// A scratch file, in memory where Linux offers it (tens of thousands of
/// cases are written and read back: on disk the writes dominate).
fn scratch(name: &str) -> PathBuf {
    let shm = Path::new("/dev/shm");
    let base = match shm.is_dir() {
        true => shm.to_path_buf(),
        false => std::env::temp_dir(),
    };
    let dir = base.join(format!("mithril-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// SplitMix64, seeded: the same cases every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A checkpoint of a short Tiny run, and a parameter file of the same run.
fn originals(test: &str) -> (Vec<u8>, Vec<u8>) {
    let ckpt = scratch(&format!("{test}-original.safetensors"));
    let params = scratch(&format!("{test}-params.safetensors"));
    let mut run = Run::new(true, 1);
    run.train(3, &ckpt, |r| r.trainer.steps() == 3).unwrap();
    save_params::<Tiny>(&run.params, &params).unwrap();
    (
        std::fs::read(&ckpt).unwrap(),
        std::fs::read(&params).unwrap(),
    )
}

/// The header length a safetensors file starts with.
fn header_len(bytes: &[u8]) -> usize {
    u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
}

/// Reads `bytes` as a checkpoint from a file; the error, and the peak memory.
fn read_checkpoint(path: &Path, bytes: &[u8]) -> (mithril::Result<Checkpoint>, usize) {
    std::fs::write(path, bytes).unwrap();
    peak_during(|| Checkpoint::load(path))
}

fn read_params(path: &Path, bytes: &[u8]) -> (mithril::Result<training_run::TinyParams>, usize) {
    std::fs::write(path, bytes).unwrap();
    peak_during(|| load_params::<Tiny>(path, DType::F32))
}

/// What a damaged checkpoint may be reported as.
fn checkpoint_error_is_typed(e: &Error) -> bool {
    matches!(
        e,
        Error::Format { .. } | Error::CheckpointFormat { .. } | Error::Checksum { .. }
    )
}

fn params_error_is_typed(e: &Error) -> bool {
    matches!(e, Error::Format { .. } | Error::Mismatch { .. })
}

#[test]
fn every_truncation_of_either_file_is_a_typed_error() {
    let (checkpoint, params) = originals("truncated");
    let path = scratch("truncated.safetensors");
    let mut worst: f64 = 0.0;
    for len in 0..checkpoint.len() {
        let (result, peak) = read_checkpoint(&path, &checkpoint[..len]);
        let err = result.expect_err("a truncated checkpoint loaded");
        assert!(checkpoint_error_is_typed(&err), "at {len}: {err}");
        assert!(peak <= bound(len), "at {len}: {peak} bytes");
        if len > 4096 {
            worst = worst.max(peak as f64 / len as f64);
        }
    }
    for len in 0..params.len() {
        let (result, peak) = read_params(&path, &params[..len]);
        let err = result.expect_err("a truncated parameter file loaded");
        assert!(params_error_is_typed(&err), "at {len}: {err}");
        assert!(peak <= bound(len), "at {len}: {peak} bytes");
    }
    println!(
        "truncations: {} of the checkpoint, {} of the parameter file; all errors; peak {:.1} x the file at most (truncations over 4 KiB)",
        checkpoint.len(),
        params.len(),
        worst
    );
}

#[test]
fn every_single_bit_flip_of_a_checkpoint_is_refused() {
    let (checkpoint, _) = originals("flipped");
    let path = scratch("flipped.safetensors");
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for byte in 0..checkpoint.len() {
        for bit in 0..8 {
            let mut bytes = checkpoint.clone();
            bytes[byte] ^= 1 << bit;
            let (result, peak) = read_checkpoint(&path, &bytes);
            let err = result.err().unwrap_or_else(|| {
                let around = &bytes[byte.saturating_sub(40)..(byte + 40).min(bytes.len())];
                panic!(
                    "byte {byte} bit {bit} flipped and it still loads: {}",
                    String::from_utf8_lossy(around)
                )
            });
            assert!(
                checkpoint_error_is_typed(&err),
                "byte {byte} bit {bit}: {err}"
            );
            assert!(peak <= bound(bytes.len()), "byte {byte}: {peak} bytes");
            let kind = match err {
                Error::Format { .. } => "safetensors structure",
                Error::CheckpointFormat { .. } => "checkpoint entries",
                _ => "checksum",
            };
            *kinds.entry(kind).or_default() += 1;
        }
    }
    println!(
        "single-bit flips of a {}-byte checkpoint: {} refused ({kinds:?})",
        checkpoint.len(),
        checkpoint.len() * 8
    );
}

#[test]
fn random_damage_is_a_typed_error_or_a_file_that_fits() {
    let (checkpoint, params) = originals("damaged");
    let path = scratch("damaged.safetensors");
    let mut rng = Rng(7);
    let cases = 3000;
    let original = {
        std::fs::write(&path, &checkpoint).unwrap();
        contents(&path)
    };
    let (mut loaded_params, mut harmless) = (0, 0);
    for case in 0..cases {
        // 1 to 8 bytes overwritten with random values, or bits flipped.
        let mut damage = |bytes: &mut Vec<u8>| {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len());
                match rng.below(2) {
                    0 => bytes[at] = rng.next() as u8,
                    _ => bytes[at] ^= 1 << rng.below(8),
                }
            }
        };
        let mut c = checkpoint.clone();
        damage(&mut c);
        let (result, peak) = read_checkpoint(&path, &c);
        assert!(peak <= bound(c.len()), "case {case}: {peak} bytes");
        match result {
            // Only damage that changes nothing (the header's JSON
            // whitespace, or bytes put back as they were) may load.
            Ok(_) => {
                assert!(
                    contents(&path) == original,
                    "case {case}: damage undetected"
                );
                harmless += 1;
            }
            Err(err) => assert!(checkpoint_error_is_typed(&err), "case {case}: {err}"),
        }
        let mut p = params.clone();
        damage(&mut p);
        let (result, peak) = read_params(&path, &p);
        assert!(peak <= bound(p.len()), "case {case}: {peak} bytes");
        match result {
            // A parameter file has no checksum: damage to the numbers
            // themselves cannot be seen, only damage to the structure.
            Ok(_) => loaded_params += 1,
            Err(err) => assert!(params_error_is_typed(&err), "case {case}: {err}"),
        }
    }
    println!(
        "random damage: {cases} checkpoints, {harmless} unchanged in content (whitespace), the rest refused; {cases} parameter files, {loaded_params} loaded (damage only in the numbers), the rest typed errors"
    );
}

/// A safetensors file from a header given as text and `data_len` zero bytes.
fn crafted(header: &str, data_len: usize) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend(header.as_bytes());
    bytes.extend(std::iter::repeat_n(0u8, data_len));
    bytes
}

#[test]
fn oversized_and_lying_headers_are_refused_without_allocating_what_they_claim() {
    let (checkpoint, params) = originals("header");
    let path = scratch("header.safetensors");
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for claim in [
        u64::MAX,
        1 << 63,
        1 << 40,
        100_000_001, // just past safetensors' 100 MB header limit
        checkpoint.len() as u64,
        header_len(&checkpoint) as u64 + 1,
    ] {
        let mut bytes = checkpoint.clone();
        bytes[..8].copy_from_slice(&claim.to_le_bytes());
        cases.push((format!("header length {claim}"), bytes));
    }
    for (what, header, data) in [
        (
            "2^62 x 4 elements in 16 bytes",
            r#"{"params.fc1.weight":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}"#,
            16,
        ),
        (
            "zero elements, a dimension beyond i32",
            r#"{"__metadata__":{"mithril.format":"mithril-checkpoint"},"params.fc1.weight":{"dtype":"F32","shape":[0,3000000000],"data_offsets":[0,0]}}"#,
            0,
        ),
        (
            "offsets past the data",
            r#"{"params.fc1.weight":{"dtype":"F32","shape":[1000000],"data_offsets":[0,4000000]}}"#,
            16,
        ),
        (
            "overlapping tensors",
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            12,
        ),
        ("not JSON", "{\"a\":", 0),
        ("not UTF-8", "\u{fffd}", 0),
        ("no tensors, no metadata", "{}", 0),
    ] {
        cases.push((what.to_string(), crafted(header, data)));
    }
    let mut long_metadata = String::from(r#"{"__metadata__":{"mithril.format":""#);
    long_metadata.push_str(&"x".repeat(1 << 20));
    long_metadata.push_str(r#""}}"#);
    cases.push(("a 1 MiB metadata value".into(), crafted(&long_metadata, 0)));
    cases.push(("empty file".into(), Vec::new()));
    cases.push(("seven bytes".into(), vec![1; 7]));
    let mut appended = checkpoint.clone();
    appended.extend([0u8; 64]);
    cases.push(("64 bytes appended".into(), appended));

    let mut worst = (0.0f64, String::new());
    for (what, bytes) in &cases {
        let (result, peak) = read_checkpoint(&path, bytes);
        if bytes.len() > 4096 && peak as f64 / bytes.len() as f64 > worst.0 {
            worst = (peak as f64 / bytes.len() as f64, what.clone());
        }
        let err = result.err().unwrap_or_else(|| panic!("{what}: loaded"));
        assert!(checkpoint_error_is_typed(&err), "{what}: {err}");
        assert!(
            peak <= bound(bytes.len()),
            "{what}: {peak} bytes for a {}-byte file",
            bytes.len()
        );
        let (result, peak) = read_params(&path, bytes);
        let err = result
            .err()
            .unwrap_or_else(|| panic!("{what}: loaded as parameters"));
        assert!(params_error_is_typed(&err), "{what}: {err}");
        assert!(
            peak <= bound(bytes.len()),
            "{what}: {peak} bytes for a {}-byte file",
            bytes.len()
        );
    }
    // The untouched files still load, within the same bound.
    let (ok, peak) = read_checkpoint(&path, &checkpoint);
    ok.unwrap();
    assert!(peak <= bound(checkpoint.len()));
    let (ok, _) = read_params(&path, &params);
    ok.unwrap();
    println!(
        "headers: {} oversized or lying headers refused; largest peak {:.1} x the file ({})",
        cases.len(),
        worst.0,
        worst.1
    );
}

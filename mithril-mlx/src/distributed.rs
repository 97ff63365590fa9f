//! Several processes training one model: MLX's distributed communication,
//! ring (TCP, between CPUs and hosts) or NCCL (between NVIDIA GPUs).
//!
//! `cargo mithril launch -n 2 -- PROGRAM` starts the processes with the
//! environment MLX reads (`MLX_RANK`, `MLX_HOSTFILE`; for NCCL also
//! `MLX_WORLD_SIZE`, `NCCL_HOST_IP`, `NCCL_PORT`); [`Group::init`] joins them.
//! A process started without that environment is a group of one, and every
//! collective is then the identity, at no cost.
//!
//! mlx-rs 0.33 has no API for MLX's distributed module, so this module calls
//! mlx-sys directly (with `sys`'s error handler); what it exports is safe.

use std::ffi::CString;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use mlx_rs::error::Exception;
use mlx_rs::ops::indexing::IndexOp;
use mlx_rs::{Array, Stream, ops};

use crate::error::{Error, Result, raise};
use crate::model::Params;
use crate::sys::{array_from, install_error_handler, last_error};

/// MLX's distributed backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Whichever the environment configures (NCCL's variables, else the ring's).
    Any,
    /// TCP sockets in a ring: CPUs, one host or several.
    Ring,
    /// NVIDIA's NCCL: one GPU per process (MLX's CUDA build).
    Nccl,
}

impl Backend {
    /// Its name in MLX (`ring`, `nccl`, `any`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Any => "any",
            Backend::Ring => "ring",
            Backend::Nccl => "nccl",
        }
    }
}

/// How long [`Group::init`] waits for every process to join, unless
/// `MITHRIL_DISTRIBUTED_TIMEOUT` (seconds) says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The processes of a run: how many there are and which one this is.
///
/// Cloning is cheap (the group is shared).
#[derive(Clone)]
pub struct Group {
    raw: Option<Arc<RawGroup>>,
    backend: Option<Backend>,
    rank: usize,
    size: usize,
    /// How long a collective may make no progress before the process stops.
    timeout: Duration,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("backend", &self.backend)
            .field("rank", &self.rank)
            .field("size", &self.size)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// MLX's group handle (a shared pointer to its implementation), freed once.
struct RawGroup(mlx_sys::mlx_distributed_group);

// SAFETY: the handle points at MLX's reference-counted group, which MLX
// itself uses from its communication threads; mithril only reads it.
unsafe impl Send for RawGroup {}
// SAFETY: as above; no method mutates the handle.
unsafe impl Sync for RawGroup {}

impl Drop for RawGroup {
    fn drop(&mut self) {
        // SAFETY: the handle came from `mlx_distributed_init` and is freed once.
        unsafe {
            mlx_sys::mlx_distributed_group_free(self.0);
        }
    }
}

fn env_set(key: &str) -> bool {
    std::env::var_os(key).is_some_and(|v| !v.is_empty())
}

/// The backend the environment configures, if any.
fn configured(backend: Backend) -> Option<Backend> {
    let nccl = ["MLX_RANK", "MLX_WORLD_SIZE", "NCCL_HOST_IP", "NCCL_PORT"]
        .iter()
        .all(|k| env_set(k));
    // A launcher gives a single rank no hostfile (or an empty one).
    let ring = env_set("MLX_RANK")
        && std::env::var_os("MLX_HOSTFILE")
            .and_then(|p| std::fs::metadata(p).ok())
            .is_some_and(|m| m.len() > 0);
    match backend {
        Backend::Nccl if nccl => Some(Backend::Nccl),
        Backend::Ring if ring => Some(Backend::Ring),
        Backend::Any if nccl => Some(Backend::Nccl),
        Backend::Any if ring => Some(Backend::Ring),
        _ => None,
    }
}

fn timeout_from_env() -> Result<Duration> {
    match std::env::var("MITHRIL_DISTRIBUTED_TIMEOUT") {
        Err(_) => Ok(DEFAULT_TIMEOUT),
        Ok(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| Error::Config {
                option: "MITHRIL_DISTRIBUTED_TIMEOUT",
                reason: format!("`{text}` is not a positive number of seconds"),
            }),
    }
}

impl Group {
    /// A group of one: this process alone.
    pub fn single() -> Group {
        Group {
            raw: None,
            backend: None,
            rank: 0,
            size: 1,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Joins the run this process was launched into (by
    /// `cargo mithril launch`, `mlx.launch`, or by hand with MLX's
    /// variables); without that environment, a group of one. Waits at most
    /// `MITHRIL_DISTRIBUTED_TIMEOUT` seconds (default 60) for the others,
    /// and a training step as long for its collectives (see
    /// [`Group::init_with_timeout`]).
    pub fn init(backend: Backend) -> Result<Group> {
        Group::init_with_timeout(backend, timeout_from_env()?)
    }

    /// [`Group::init`] with an explicit time limit. A peer that never comes,
    /// or an address that cannot be used, is an error within `timeout`
    /// rather than a hang.
    ///
    /// The same limit watches the evaluations that run collectives (a
    /// data-parallel [`crate::train::Trainer`]'s steps, [`verify_identical`],
    /// [`broadcast_params`], [`Group::barrier`]). MLX's ring backend reports
    /// a lost peer as an error to the collective that was waiting, but a
    /// collective issued after that never completes; so when such an
    /// evaluation makes no progress for `timeout`, a watchdog prints why and
    /// ends the process with status 1 (as PyTorch's NCCL watchdog does). A
    /// collective that fails with an error is returned as
    /// [`Error::Distributed`]; the process then also exits with status 1
    /// when it ends, without running MLX's teardown, which would wait on
    /// the stuck communication forever.
    pub fn init_with_timeout(backend: Backend, timeout: Duration) -> Result<Group> {
        let Some(resolved) = configured(backend) else {
            return Ok(Group::single());
        };
        install_error_handler();
        let name = resolved.name();
        let fail = |reason: String| Error::Distributed {
            backend: name,
            reason,
        };
        let c_name = CString::new(name).map_err(|e| fail(e.to_string()))?;
        // SAFETY: a NUL-terminated backend name.
        if !unsafe { mlx_sys::mlx_distributed_is_available(c_name.as_ptr()) } {
            return Err(fail(match resolved {
                Backend::Nccl => "this MLX build has no NCCL (the CPU build); run on MLX's CUDA build (`cargo mithril launch --gpu`) or use the ring backend".into(),
                _ => "this MLX build does not have it".into(),
            }));
        }
        // MLX's rendezvous blocks in accept(2) and connect(2) without a time
        // limit; it runs on its own thread so that this one can give up.
        let (done, wait) = mpsc::channel();
        std::thread::spawn(move || {
            // SAFETY: an empty handle for MLX to fill, a valid name.
            let result = unsafe {
                let mut raw = mlx_sys::mlx_distributed_group_new();
                let status = mlx_sys::mlx_distributed_init(&mut raw, true, c_name.as_ptr());
                if status == 0 {
                    Ok(RawGroup(raw))
                } else {
                    mlx_sys::mlx_distributed_group_free(raw);
                    Err(last_error(status))
                }
            };
            let _ = done.send(result);
        });
        let raw = match wait.recv_timeout(timeout) {
            Ok(Ok(raw)) => raw,
            Ok(Err(message)) => return Err(fail(message)),
            Err(_) => {
                return Err(fail(format!(
                    "not every process joined within {:.0} s (rank {}: a peer did not start, or cannot reach this one's address)",
                    timeout.as_secs_f64(),
                    std::env::var("MLX_RANK").unwrap_or_default()
                )));
            }
        };
        // SAFETY: a group MLX initialised.
        let (rank, size) = unsafe {
            (
                mlx_sys::mlx_distributed_group_rank(raw.0),
                mlx_sys::mlx_distributed_group_size(raw.0),
            )
        };
        watchdog::start();
        Ok(Group {
            timeout,
            raw: Some(Arc::new(raw)),
            backend: Some(resolved),
            rank: usize::try_from(rank).map_err(|_| fail(format!("rank {rank}")))?,
            size: usize::try_from(size).map_err(|_| fail(format!("size {size}")))?,
        })
    }

    /// This process's rank, from 0.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// How many processes there are.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether this is rank 0, the one that prints and writes files.
    pub fn is_main(&self) -> bool {
        self.rank == 0
    }

    /// The backend in use (`None` for a group of one).
    pub fn backend(&self) -> Option<Backend> {
        self.backend
    }

    /// The stream collectives run on: the CPU's for the ring, the GPU's for NCCL.
    fn stream(&self) -> Stream {
        match self.backend {
            Some(Backend::Nccl) => Stream::gpu(),
            _ => Stream::cpu(),
        }
    }

    fn collective(
        &self,
        op: &str,
        call: impl FnOnce(
            *mut mlx_sys::mlx_array,
            mlx_sys::mlx_distributed_group,
            mlx_sys::mlx_stream,
        ) -> i32,
    ) -> Result<Array, Exception> {
        let Some(raw) = &self.raw else {
            return Err(raise(Error::Internal(
                "a collective ran on a group of one process",
            )));
        };
        let stream = self.stream();
        array_from(op, |out| call(out, raw.0, stream.as_ptr()))
    }

    /// The element-wise sum of `x` over every process (lazy, like any MLX
    /// operation; it can be traced into a compiled closure).
    pub fn all_sum(&self, x: &Array) -> Result<Array, Exception> {
        if self.size == 1 {
            return Ok(x.clone());
        }
        // SAFETY: `x` is a live array for the duration of the call.
        self.collective("all_sum", |out, group, stream| unsafe {
            mlx_sys::mlx_distributed_all_sum(out, x.as_ptr(), group, stream)
        })
    }

    /// Every process's `x`, concatenated along axis 0 in rank order.
    pub fn all_gather(&self, x: &Array) -> Result<Array, Exception> {
        if self.size == 1 {
            return Ok(x.clone());
        }
        // SAFETY: `x` is a live array for the duration of the call.
        self.collective("all_gather", |out, group, stream| unsafe {
            mlx_sys::mlx_distributed_all_gather(out, x.as_ptr(), group, stream)
        })
    }

    /// `root`'s `x` on every process (MLX has no broadcast: an `all_sum` of
    /// `x` on `root` and zeros elsewhere, exact since only one term is not 0).
    pub fn broadcast(&self, x: &Array, root: usize) -> Result<Array, Exception> {
        if self.size == 1 {
            return Ok(x.clone());
        }
        let contribution = if self.rank == root {
            x.clone()
        } else {
            ops::zeros_like(x)?
        };
        self.all_sum(&contribution)
    }

    /// The mean of `x` over every process.
    pub fn all_mean(&self, x: &Array) -> Result<Array, Exception> {
        if self.size == 1 {
            return Ok(x.clone());
        }
        self.all_sum(x)?
            .divide(Array::from_f32(self.size as f32).as_dtype(x.dtype())?)
    }

    /// Waits until every process gets here.
    pub fn barrier(&self) -> Result<()> {
        let token = self.all_sum(&Array::from_int(1))?;
        self.guarded("barrier", || token.eval())
    }

    /// Runs `evaluate`, an MLX evaluation that runs this group's
    /// collectives, under the watchdog (see [`Group::init_with_timeout`]);
    /// its failure becomes [`Error::Distributed`].
    pub fn guarded<T>(
        &self,
        what: &str,
        evaluate: impl FnOnce() -> Result<T, Exception>,
    ) -> Result<T> {
        if self.size == 1 {
            return Ok(evaluate()?);
        }
        let _watch = watchdog::arm(
            format!(
                "rank {} of {}: {what} made no progress for {:.0} s: another process has probably died",
                self.rank,
                self.size,
                self.timeout.as_secs_f64()
            ),
            self.timeout,
        );
        evaluate().map_err(|e| {
            watchdog::mark_failed();
            Error::Distributed {
                backend: self.backend.map_or("none", Backend::name),
                reason: format!("rank {} of {}: {what}: {e}", self.rank, self.size),
            }
        })
    }
}

/// Ends a process whose collectives stopped making progress.
mod watchdog {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Mutex, Once};
    use std::time::{Duration, Instant};

    /// What is being waited for, and until when.
    static ARMED: Mutex<Option<(Instant, String)>> = Mutex::new(None);
    static FAILED: AtomicBool = AtomicBool::new(false);

    /// Starts the watchdog thread and the exit hook, once per process.
    pub(super) fn start() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            // Registered after MLX's scheduler exists, so it runs before
            // MLX's teardown (exit handlers run last-registered first).
            // SAFETY: registering a plain function with no state.
            unsafe {
                libc::atexit(exit_quickly_after_failure);
            }
            std::thread::Builder::new()
                .name("mithril-distributed-watchdog".into())
                .spawn(|| {
                    loop {
                        std::thread::sleep(Duration::from_millis(100));
                        let expired = ARMED.lock().ok().and_then(|armed| {
                            armed
                                .as_ref()
                                .filter(|(t, _)| Instant::now() >= *t)
                                .map(|(_, why)| why.clone())
                        });
                        if let Some(why) = expired {
                            eprintln!("error: distributed run: {why}; stopping this process");
                            // SAFETY: ends the process without running exit
                            // handlers, which would wait on the stuck work.
                            unsafe { libc::_exit(1) }
                        }
                    }
                })
                .ok();
        });
    }

    extern "C" fn exit_quickly_after_failure() {
        if FAILED.load(Ordering::SeqCst) {
            // SAFETY: as above; stdio is flushed by Rust before exit.
            unsafe { libc::_exit(1) }
        }
    }

    /// Records that a collective failed: the process will end with status 1.
    pub(super) fn mark_failed() {
        FAILED.store(true, Ordering::SeqCst);
    }

    /// Disarms the watchdog when dropped.
    pub(super) struct Armed;

    impl Drop for Armed {
        fn drop(&mut self) {
            if let Ok(mut armed) = ARMED.lock() {
                *armed = None;
            }
        }
    }

    /// Arms the watchdog: unless disarmed within `timeout`, it prints `why`
    /// and ends the process.
    pub(super) fn arm(why: String, timeout: Duration) -> Armed {
        if let Ok(mut armed) = ARMED.lock() {
            *armed = Some((Instant::now() + timeout, why));
        }
        Armed
    }
}

/// Gradients averaged over every process, as Python MLX's
/// `nn.average_gradients` does: arrays of one dtype are flattened and
/// concatenated into buckets of at least `bucket_bytes`, each bucket summed
/// in one `all_sum`, divided by the group's size and split back.
pub fn average_gradients(
    group: &Group,
    gradients: &[Array],
    bucket_bytes: usize,
) -> Result<Vec<Array>, Exception> {
    let n = group.size();
    if n == 1 || gradients.is_empty() {
        return Ok(gradients.to_vec());
    }
    let mut out: Vec<Option<Array>> = vec![None; gradients.len()];
    // Buckets of indices, per dtype, each at least `bucket_bytes` (the last smaller).
    let mut order: Vec<usize> = (0..gradients.len()).collect();
    order.sort_by_key(|&i| gradients[i].dtype() as u32);
    let mut bucket: Vec<usize> = Vec::new();
    let mut bytes = 0;
    let flush = |bucket: &mut Vec<usize>, out: &mut Vec<Option<Array>>| -> Result<(), Exception> {
        if bucket.is_empty() {
            return Ok(());
        }
        let flat: Vec<Array> = bucket
            .iter()
            .map(|&i| gradients[i].flatten(None, None))
            .collect::<Result<_, _>>()?;
        let joined = ops::concatenate(&flat, 0)?;
        let mean = group.all_mean(&joined)?;
        let mut offset = 0i32;
        for &i in bucket.iter() {
            let g = &gradients[i];
            let len = g.size() as i32;
            let piece = mean.index(offset..offset + len).reshape(g.shape())?;
            out[i] = Some(piece);
            offset += len;
        }
        bucket.clear();
        Ok(())
    };
    for (k, &i) in order.iter().enumerate() {
        if let Some(&previous) = bucket.last()
            && gradients[previous].dtype() != gradients[i].dtype()
        {
            flush(&mut bucket, &mut out)?;
            bytes = 0;
        }
        bucket.push(i);
        bytes += gradients[i].nbytes();
        if bytes >= bucket_bytes || k + 1 == order.len() {
            flush(&mut bucket, &mut out)?;
            bytes = 0;
        }
    }
    out.into_iter()
        .map(|a| a.ok_or_else(|| raise(Error::Internal("the averaging lost a gradient"))))
        .collect()
}

/// The positions of `order` this rank trains on in each step: `order` is the
/// epoch's sample order (the same on every rank, e.g. from a seeded shuffle),
/// cut into global batches of `global_batch`; rank `r` takes the `r`-th of
/// `size` equal parts of each. Every rank gets disjoint samples and the same
/// number of steps; the last global batch is kept only if it divides evenly.
pub fn shard(order: &[usize], global_batch: usize, rank: usize, size: usize) -> Vec<Vec<usize>> {
    if size == 0 || global_batch == 0 || rank >= size {
        return Vec::new();
    }
    order
        .chunks(global_batch)
        .filter(|batch| batch.len() % size == 0)
        .map(|batch| {
            let part = batch.len() / size;
            batch[rank * part..(rank + 1) * part].to_vec()
        })
        .collect()
}

/// A checksum of every array of `params`, in order: FNV-1a over their
/// dtypes, shapes and bytes. Equal checksums mean bit-identical parameters.
pub fn params_checksum<P: Params>(params: &P) -> Result<u64> {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(PRIME);
        }
    };
    for array in params.to_arrays() {
        eat(format!("{:?}{:?}", array.dtype(), array.shape()).as_bytes());
        // The same bits whatever the dtype: widen exactly to f64 or i64, on
        // the CPU (GPUs have no float64).
        let cpu = Stream::cpu();
        if array.dtype().is_float() {
            for v in mlx_rs::with_stream(&cpu, || array.as_dtype(mlx_rs::Dtype::Float64))?
                .try_as_slice::<f64>()?
            {
                eat(&v.to_bits().to_le_bytes());
            }
        } else {
            for v in mlx_rs::with_stream(&cpu, || array.as_dtype(mlx_rs::Dtype::Int64))?
                .try_as_slice::<i64>()?
            {
                eat(&v.to_le_bytes());
            }
        }
    }
    Ok(hash)
}

/// Checks that `params` are bit for bit the same on every process and
/// returns their checksum ([`params_checksum`]); an error lists each rank's.
pub fn verify_identical<P: Params>(group: &Group, params: &P) -> Result<u64> {
    let checksum = params_checksum(params)?;
    if group.size() == 1 {
        return Ok(checksum);
    }
    let halves = [(checksum >> 32) as u32, checksum as u32];
    let all = group.all_gather(&Array::from_slice(&halves, &[1, 2]))?;
    let all: Vec<u32> = all.try_as_slice::<u32>()?.to_vec();
    let sums: Vec<u64> = all
        .chunks(2)
        .map(|c| (u64::from(c[0]) << 32) | u64::from(c[1]))
        .collect();
    if sums.iter().all(|&s| s == checksum) {
        return Ok(checksum);
    }
    let listed: Vec<String> = sums
        .iter()
        .enumerate()
        .map(|(rank, s)| format!("rank {rank}: {s:016x}"))
        .collect();
    Err(Error::Distributed {
        backend: group.backend().map_or("none", Backend::name),
        reason: format!("parameters differ across ranks ({})", listed.join(", ")),
    })
}

/// `root`'s parameters on every process, for runs whose processes did not
/// start from the same seed.
pub fn broadcast_params<P: Params>(group: &Group, params: &P, root: usize) -> Result<P> {
    if group.size() == 1 {
        return Ok(params.clone());
    }
    let shared = params.try_map(&mut |a| group.broadcast(a, root))?;
    let arrays = shared.to_arrays();
    group.guarded("broadcasting parameters", || {
        mlx_rs::transforms::eval(arrays.iter())
    })?;
    Ok(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_disjoint_equal_and_cover_whole_batches() {
        let order: Vec<usize> = (0..23).rev().collect();
        let a = shard(&order, 8, 0, 2);
        let b = shard(&order, 8, 1, 2);
        assert_eq!(
            a.len(),
            2,
            "22..15, 14..7, and 6..0 is 7 samples: not divisible by 2"
        );
        assert_eq!(a[0], [22, 21, 20, 19]);
        assert_eq!(b[0], [18, 17, 16, 15]);
        let mut all: Vec<usize> = a.iter().chain(&b).flatten().copied().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 16);
        assert_eq!(shard(&order, 8, 0, 1).concat(), order);
    }

    #[test]
    fn a_process_without_environment_is_a_group_of_one() {
        // SAFETY (test): no other thread reads these variables.
        let group = Group::init(Backend::Any).unwrap();
        assert_eq!((group.rank(), group.size()), (0, 1));
        let x = Array::from_slice(&[1.0f32, 2.0], &[2]);
        assert_eq!(group.all_sum(&x).unwrap().as_slice::<f32>(), [1.0, 2.0]);
        assert_eq!(
            group.broadcast(&x, 0).unwrap().as_slice::<f32>(),
            [1.0, 2.0]
        );
        let grads = average_gradients(&group, std::slice::from_ref(&x), 1 << 20).unwrap();
        assert_eq!(grads[0].as_slice::<f32>(), [1.0, 2.0]);
    }
}

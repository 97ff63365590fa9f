//! Runs cases: each in its own thread (named after the case, with the
//! stack rustc gives a proc macro), under a watchdog, every expansion
//! inside `catch_unwind`, every output parsed as Rust items.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock, mpsc};
use std::time::{Duration, Instant};

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

use crate::tree::{Tree, stream, trees};

/// rustc runs proc macros on its main thread, which has 8 MiB.
const STACK: usize = 8 << 20;

/// What one expansion did wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// A panic, with its message and where it was raised.
    Panic { message: String, location: String },
    /// The output is not Rust items (so neither an expansion nor `compile_error!`s).
    NotItems(String),
}

impl Fault {
    /// Two faults are the same bug when they panic at the same place, or
    /// both give output that does not parse.
    pub fn same_bug(&self, other: &Fault) -> bool {
        match (self, other) {
            (Fault::Panic { location: a, .. }, Fault::Panic { location: b, .. }) => a == b,
            (Fault::NotItems(_), Fault::NotItems(_)) => true,
            _ => false,
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Panic { message, location } => write!(f, "panicked at {location}: {message}"),
            Fault::NotItems(e) => write!(f, "the output is not Rust items: {e}"),
        }
    }
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// A panic hook that records panics inside [`expand`] instead of printing
/// them; other panics (the harness's own, the test's asserts) print as usual.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.get() {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let location = info.location().map(|l| l.to_string()).unwrap_or_default();
                LAST_PANIC.set(Some((message, location)));
            } else {
                default(info);
            }
        }));
    });
}

/// An output that passed: its tokens, and whether it reports errors.
pub struct Expansion {
    pub tokens: TokenStream,
    pub has_errors: bool,
}

/// Expands `input` and checks the output: no panic, and Rust items.
pub fn expand(input: TokenStream) -> Result<Expansion, Fault> {
    install_hook();
    QUIET.set(true);
    let result = panic::catch_unwind(AssertUnwindSafe(|| mithril_dsl::expand(input)));
    QUIET.set(false);
    let output = result.map_err(|_| {
        let (message, location) = LAST_PANIC.take().unwrap_or_default();
        Fault::Panic { message, location }
    })?;
    let has_errors = items(&output).map_err(Fault::NotItems)?;
    Ok(Expansion {
        tokens: output,
        has_errors,
    })
}

/// Items parsed before, by a hash of their tokens (spans aside).
static PARSED: OnceLock<Mutex<HashSet<u64>>> = OnceLock::new();

/// Checks that `output` is Rust items, and says whether one is a
/// `compile_error!`. Parsing dominates a case's time, and most items recur
/// from case to case (a model's impls, its layers' structs), so the output
/// is cut into items at top-level `;` and braces, and an item whose tokens
/// were parsed before is not parsed again. Where the cut is wrong, the
/// whole output is parsed.
fn items(output: &TokenStream) -> Result<bool, String> {
    let trees: Vec<TokenTree> = output.clone().into_iter().collect();
    let mut chunks: Vec<&[TokenTree]> = Vec::new();
    let mut start = 0;
    for i in 0..trees.len() {
        let ends = match &trees[i] {
            TokenTree::Punct(p) => p.as_char() == ';',
            TokenTree::Group(g) => {
                g.delimiter() == Delimiter::Brace
                    && !matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == ';')
            }
            _ => false,
        };
        if ends {
            chunks.push(&trees[start..=i]);
            start = i + 1;
        }
    }
    chunks.push(&trees[start..]);
    let mut has_errors = false;
    let parsed = PARSED.get_or_init(Default::default);
    for (k, chunk) in chunks.iter().enumerate() {
        has_errors |= chunk
            .iter()
            .take(8)
            .any(|t| matches!(t, TokenTree::Ident(i) if i == "compile_error"));
        // An inner attribute parses alone, but not after other items.
        let inner_attribute = k > 0
            && matches!(chunk, [TokenTree::Punct(a), TokenTree::Punct(b), ..] if a.as_char() == '#' && b.as_char() == '!');
        let mut hasher = DefaultHasher::new();
        hash_trees(chunk.iter().cloned(), &mut hasher);
        let key = hasher.finish();
        if !inner_attribute && parsed.lock().unwrap().contains(&key) {
            continue;
        }
        let tokens: TokenStream = chunk.iter().cloned().collect();
        if inner_attribute || syn::parse2::<syn::File>(tokens).is_err() {
            return syn::parse2::<syn::File>(output.clone())
                .map(|_| has_errors)
                .map_err(|e| e.to_string());
        }
        let mut parsed = parsed.lock().unwrap();
        // Bounded, for long runs.
        if parsed.len() >= 1 << 22 {
            parsed.clear();
        }
        parsed.insert(key);
    }
    Ok(has_errors)
}

fn hash_trees(trees: impl Iterator<Item = TokenTree>, h: &mut DefaultHasher) {
    for t in trees {
        match t {
            TokenTree::Group(g) => {
                (g.delimiter() as u8).hash(h);
                hash_trees(g.stream().into_iter(), h);
                0xffu8.hash(h);
            }
            TokenTree::Ident(i) => (1u8, i.to_string()).hash(h),
            TokenTree::Punct(p) => (2u8, p.as_char(), p.spacing() == Spacing::Joint).hash(h),
            TokenTree::Literal(l) => (3u8, l.to_string()).hash(h),
        }
    }
}

/// Where a case's inputs go: checked, or (to show a case that failed)
/// only counted until the one that failed, whose text is kept.
pub trait Sink {
    /// Checks one input; `Err` stops the case.
    fn check(&mut self, input: TokenStream) -> Result<TokenStream, ()>;
}

/// Checks every input, recording the first fault and which input it was.
pub struct Checker<'a> {
    pub step: &'a AtomicUsize,
    pub inputs: usize,
    pub clean: usize,
    pub fault: Option<(Fault, usize)>,
}

impl Sink for Checker<'_> {
    fn check(&mut self, input: TokenStream) -> Result<TokenStream, ()> {
        self.step.fetch_add(1, Ordering::SeqCst);
        self.inputs += 1;
        match expand(input) {
            Ok(expansion) => {
                if !expansion.has_errors {
                    self.clean += 1;
                }
                Ok(expansion.tokens)
            }
            Err(fault) => {
                self.fault = Some((fault, self.inputs));
                Err(())
            }
        }
    }
}

/// Runs a case again up to its `nth` input and keeps that input's text
/// (inputs are built, not kept, so that a case that passes copies nothing).
struct Capture {
    nth: usize,
    seen: usize,
    text: Option<String>,
}

impl Sink for Capture {
    fn check(&mut self, input: TokenStream) -> Result<TokenStream, ()> {
        self.seen += 1;
        if self.seen == self.nth {
            self.text = Some(input.to_string());
            return Err(());
        }
        // The inputs before it passed; their outputs feed the next.
        expand(input).map(|e| e.tokens).map_err(|_| ())
    }
}

/// A generator of cases: the case's number seeds its random choices, and it
/// hands each input it builds to the sink.
pub type Generate = dyn Fn(u64, &mut dyn Sink) -> &'static str + Send + Sync;

/// A case that failed.
pub struct Failure {
    pub case: u64,
    pub kind: &'static str,
    pub fault: Fault,
    pub input: String,
    pub minimised: String,
}

/// What a run found.
#[derive(Default)]
pub struct Report {
    pub cases: u64,
    pub inputs: u64,
    pub clean: u64,
    /// Cases, inputs, inputs that expanded without errors, and time, by kind.
    pub by_kind: Vec<(&'static str, u64, u64, u64, Duration)>,
    pub slowest: (Duration, u64, &'static str),
    pub failures: Vec<Failure>,
    pub failed_cases: u64,
}

pub struct Config {
    pub seed: u64,
    pub cases: std::ops::Range<u64>,
    pub timeout: Duration,
    pub threads: usize,
}

/// Cases a thread runs: a thread per case costs a tenth of the run in
/// creating threads and faulting in their stacks; a thread for a few still
/// names them when it overflows its stack.
const BATCH: u64 = 16;

/// How often a long run reports its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(300);

/// Runs every case of `config` with `generate` on worker threads.
pub fn run(config: &Config, generate: Arc<Generate>) -> Report {
    install_hook();
    let next = AtomicU64::new(config.cases.start);
    let report = Mutex::new(Report::default());
    let workers_left = AtomicUsize::new(config.threads);
    std::thread::scope(|scope| {
        // Long runs say how far they got, past the output capture (a run
        // cut short still leaves its count).
        scope.spawn(|| {
            let started = Instant::now();
            let mut last = Instant::now();
            while workers_left.load(Ordering::SeqCst) > 0 {
                std::thread::sleep(Duration::from_millis(200));
                if last.elapsed() >= PROGRESS_EVERY {
                    last = Instant::now();
                    let r = report.lock().unwrap();
                    let _ = writeln!(
                        std::io::stderr(),
                        "fuzz: {} cases, {} inputs, {} failed, {:.0} s",
                        r.cases,
                        r.inputs,
                        r.failed_cases,
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        });
        for _ in 0..config.threads {
            scope.spawn(|| {
                // Counted down however the worker ends (a panic included).
                struct Done<'a>(&'a AtomicUsize);
                impl Drop for Done<'_> {
                    fn drop(&mut self) {
                        self.0.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                let _done = Done(&workers_left);
                loop {
                    let first = next.fetch_add(BATCH, Ordering::SeqCst);
                    if first >= config.cases.end {
                        break;
                    }
                    let cases = first..(first + BATCH).min(config.cases.end);
                    for outcome in run_batch(config, cases, Arc::clone(&generate)) {
                        record(&report, outcome, config, &generate);
                    }
                }
            });
        }
    });
    let mut report = report.into_inner().unwrap();
    report.by_kind.sort();
    report.failures.sort_by_key(|f| f.case);
    report
}

fn record(report: &Mutex<Report>, outcome: Outcome, config: &Config, generate: &Arc<Generate>) {
    let mut r = report.lock().unwrap();
    r.cases += 1;
    r.inputs += outcome.inputs as u64;
    r.clean += outcome.clean as u64;
    match r.by_kind.iter_mut().find(|(k, ..)| *k == outcome.kind) {
        Some(entry) => {
            entry.1 += 1;
            entry.2 += outcome.inputs as u64;
            entry.3 += outcome.clean as u64;
            entry.4 += outcome.elapsed;
        }
        None => r.by_kind.push((
            outcome.kind,
            1,
            outcome.inputs as u64,
            outcome.clean as u64,
            outcome.elapsed,
        )),
    }
    if outcome.elapsed > r.slowest.0 {
        r.slowest = (outcome.elapsed, outcome.case, outcome.kind);
    }
    if let Some((fault, nth)) = outcome.fault {
        r.failed_cases += 1;
        if r.failures.len() < 8 {
            drop(r);
            let input = capture(outcome.case, nth, Arc::clone(generate), config.timeout);
            let minimised = minimise(&input, &fault, config.timeout);
            report.lock().unwrap().failures.push(Failure {
                case: outcome.case,
                kind: outcome.kind,
                fault,
                input,
                minimised,
            });
        }
    }
}

struct Outcome {
    case: u64,
    kind: &'static str,
    inputs: usize,
    clean: usize,
    elapsed: Duration,
    fault: Option<(Fault, usize)>,
}

/// Runs a few cases on a thread of their own, each under the bound.
fn run_batch(
    config: &Config,
    cases: std::ops::Range<u64>,
    generate: Arc<Generate>,
) -> Vec<Outcome> {
    let current = Arc::new(AtomicU64::new(cases.start));
    let step = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let spawned = {
        let (current, step, generate, cases) = (
            Arc::clone(&current),
            Arc::clone(&step),
            Arc::clone(&generate),
            cases.clone(),
        );
        std::thread::Builder::new()
            .name(format!("fuzz cases {cases:?} of seed {}", config.seed))
            .stack_size(STACK)
            .spawn(move || {
                for case in cases {
                    current.store(case, Ordering::SeqCst);
                    step.store(0, Ordering::SeqCst);
                    let started = Instant::now();
                    let mut checker = Checker {
                        step: &step,
                        inputs: 0,
                        clean: 0,
                        fault: None,
                    };
                    let kind = generate(case, &mut checker);
                    let outcome = Outcome {
                        case,
                        kind,
                        inputs: checker.inputs,
                        clean: checker.clean,
                        elapsed: started.elapsed(),
                        fault: checker.fault,
                    };
                    if tx.send(outcome).is_err() {
                        return;
                    }
                }
            })
    };
    let handle = spawned.expect("a thread for the cases");
    let mut outcomes = Vec::new();
    for _ in cases {
        match rx.recv_timeout(config.timeout) {
            Ok(outcome) => outcomes.push(outcome),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // The generator itself panicked (printed by the hook): a bug
                // in the test, reproducible from the case number.
                let _ = handle.join();
                panic!(
                    "the generator of case {} (seed {}) panicked",
                    current.load(Ordering::SeqCst),
                    config.seed
                );
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let case = current.load(Ordering::SeqCst);
                let text = capture(case, step.load(Ordering::SeqCst), generate, config.timeout);
                hang(config, case, &text)
            }
        }
    }
    let _ = handle.join();
    outcomes
}

/// The text of the `nth` input of a case, generated again.
fn capture(case: u64, nth: usize, generate: Arc<Generate>, timeout: Duration) -> String {
    let (tx, rx) = mpsc::channel();
    let _ = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let mut capture = Capture {
                nth,
                seen: 0,
                text: None,
            };
            generate(case, &mut capture);
            let _ = tx.send(capture.text.unwrap_or_default());
        });
    rx.recv_timeout(timeout)
        .unwrap_or_else(|_| "(could not be generated again)".into())
}

/// A case that ran past the bound: print it (past the test harness's
/// output capture, which an exit would lose) and stop the test process.
fn hang(config: &Config, case: u64, text: &str) -> ! {
    let saved = save(config.seed, case, "hang", text);
    let _ = writeln!(
        std::io::stderr(),
        "\nfuzz: case {case} of seed {seed} ran over {timeout:?} (a hang, or a blow-up): stopping the test.\n\
         input ({saved}):\n{text}\n\
         reproduce: MITHRIL_FUZZ_SEED={seed} MITHRIL_FUZZ_CASE={case} cargo test -p mithril-dsl --test fuzz\n",
        seed = config.seed,
        timeout = config.timeout,
    );
    std::process::exit(101);
}

/// Saves a failing input under the test's temporary directory.
pub fn save(seed: u64, case: u64, what: &str, text: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    let path = dir.join(format!("seed-{seed}-case-{case}-{what}.txt"));
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
        Ok(()) => path.display().to_string(),
        Err(e) => format!("not saved: {e}"),
    }
}

/// A smaller input with the same fault: trees are dropped and groups
/// replaced by their contents while the fault stays (greedy, a fixed number
/// of tries; in a thread, under the case bound).
pub fn minimise(input: &str, fault: &Fault, timeout: Duration) -> String {
    let (input, fault) = (input.to_string(), fault.clone());
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new().stack_size(STACK).spawn(move || {
        let Ok(tokens) = input.parse::<TokenStream>() else {
            let _ = tx.send(input);
            return;
        };
        let mut best = trees(tokens);
        let fails = |candidate: &[Tree]| {
            matches!(expand(stream(candidate)), Err(f) if f.same_bug(&fault))
        };
        if !fails(&best) {
            // Only the tokens as built fail (spacing or invisible groups
            // that text does not keep): the text is the input.
            let _ = tx.send(input);
            return;
        }
        let mut tries = 0;
        let mut progress = true;
        while progress && tries < 4000 {
            progress = false;
            let mut k = 0;
            while k < crate::tree::count(&best) && tries < 4000 {
                tries += 1;
                let path = crate::tree::path_of(&best, k).expect("k is in range");
                let (last, groups) = path.split_last().expect("a path is never empty");
                let mut candidate = best.clone();
                let list = crate::tree::list_at(&mut candidate, groups);
                let removed = list.remove(*last);
                if fails(&candidate) {
                    best = candidate;
                    progress = true;
                    continue;
                }
                if let Tree::Group(_, inner) = removed {
                    let mut candidate = best.clone();
                    let list = crate::tree::list_at(&mut candidate, groups);
                    list.splice(*last..=*last, inner);
                    if fails(&candidate) {
                        best = candidate;
                        progress = true;
                        continue;
                    }
                }
                k += 1;
            }
        }
        let _ = tx.send(stream(&best).to_string());
    });
    match worker {
        Ok(_) => rx
            .recv_timeout(timeout * 6)
            .unwrap_or_else(|_| "(minimising took too long)".into()),
        Err(_) => "(no thread to minimise in)".into(),
    }
}

//! Fuzzing `model!`: its compiler, [`mithril_dsl::expand`], is fed
//! generated inputs outside rustc, through `proc_macro2`. Every input must
//! give an expansion or `compile_error!`s (the output parses as Rust items),
//! never a panic, and each case must finish within a time bound.
//!
//! The inputs (`generate.rs`): random token streams from the language's
//! vocabulary (`vocab.rs`); the workspace's models (`seeds.rs`) with tokens
//! swapped, dropped, duplicated, inserted and replaced, numbers made
//! extreme, identifiers made raw, groups opened and nested, pipelines made
//! very long; models generated from the grammar, with random layers and
//! arguments; and the second step of blocks that use models of other
//! blocks, fed the signatures their first step asks for (mutated too).
//!
//! Each case's choices come from the run's seed and the case's number, so
//! any case runs alone. A failure prints both, the input and a minimised
//! input; such inputs go to `tests/fuzz/corpus/`, which every run replays.
//!
//! `cargo test -p mithril-dsl --test fuzz` runs 100,000 cases (CI). The
//! long run (docs/reliability.md) sets the count, the seed and more:
//!
//! ```text
//! MITHRIL_FUZZ_CASES=5000000 MITHRIL_FUZZ_SEED=7 cargo test --release -p mithril-dsl --test fuzz -- --nocapture
//! ```
//!
//! `MITHRIL_FUZZ_CASE=N` runs case N alone; `MITHRIL_FUZZ_TIMEOUT_MS` is
//! the bound on a case (default 20,000 ms; a case takes milliseconds);
//! `MITHRIL_FUZZ_THREADS` the number of workers (default: the cores).

mod generate;
mod harness;
mod seeds;
mod tree;
mod vocab;

use std::fs;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use generate::Pools;
use harness::{Config, Sink};

/// CI's run: at least 100,000 inputs.
const DEFAULT_CASES: u64 = 100_000;
/// "mithril" in ASCII.
const DEFAULT_SEED: u64 = 0x006d_6974_6872_696c;

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    let text = std::env::var(name).ok()?;
    Some(
        text.trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text} is not a number")),
    )
}

fn config() -> Config {
    let seed = env("MITHRIL_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let cases = match env::<u64>("MITHRIL_FUZZ_CASE") {
        Some(case) => case..case + 1,
        None => 0..env("MITHRIL_FUZZ_CASES").unwrap_or(DEFAULT_CASES),
    };
    let threads = env("MITHRIL_FUZZ_THREADS")
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    Config {
        seed,
        cases,
        timeout: Duration::from_millis(env("MITHRIL_FUZZ_TIMEOUT_MS").unwrap_or(20_000)),
        threads,
    }
}

/// The workspace's models and the signatures their expansions carry.
fn pools(seed: u64) -> Pools {
    static SEEDS: OnceLock<(Vec<seeds::Seed>, Vec<String>)> = OnceLock::new();
    let (found, signatures) = SEEDS.get_or_init(|| {
        let found = seeds::collect();
        let mut signatures = Vec::new();
        for s in &found {
            if let Ok(output) = harness::expand(s.text.parse().expect("a seed is tokens")) {
                signatures.extend(
                    generate::signature_groups(&output.tokens)
                        .iter()
                        .map(|s| s.to_string()),
                );
            }
        }
        signatures.sort();
        signatures.dedup();
        (found, signatures)
    });
    Pools {
        seeds: found.iter().map(|s| s.text.clone()).collect(),
        signatures: signatures.clone(),
        seed,
    }
}

#[test]
fn generated_inputs_expand_or_report_errors() {
    let config = config();
    let pools = Arc::new(pools(config.seed));
    println!(
        "fuzz: seed {}, cases {:?}, {} threads, bound {:?} a case; {} workspace models, {} signatures",
        config.seed,
        config.cases,
        config.threads,
        config.timeout,
        pools.seeds.len(),
        pools.signatures.len()
    );
    let started = Instant::now();
    let generate = Arc::clone(&pools);
    let report = harness::run(
        &config,
        Arc::new(move |case, sink: &mut dyn Sink| generate::case(&generate, case, sink)),
    );
    let elapsed = started.elapsed();
    println!(
        "fuzz: {} cases, {} inputs in {:.1} s ({:.0} inputs/s); {} expanded without errors; slowest case {} ({}), {:.0} ms",
        report.cases,
        report.inputs,
        elapsed.as_secs_f64(),
        report.inputs as f64 / elapsed.as_secs_f64(),
        report.clean,
        report.slowest.1,
        report.slowest.2,
        report.slowest.0.as_secs_f64() * 1e3,
    );
    for (kind, cases, inputs, clean, time) in &report.by_kind {
        println!(
            "fuzz:   {kind}: {cases} cases, {inputs} inputs ({clean} expanded without errors), {:.2} ms a case",
            time.as_secs_f64() * 1e3 / *cases as f64
        );
    }
    let mut message = String::new();
    for f in &report.failures {
        let saved = harness::save(config.seed, f.case, "input", &f.input);
        harness::save(config.seed, f.case, "minimised", &f.minimised);
        message += &format!(
            "\ncase {case} ({kind}): {fault}\n  input ({saved}):\n{input}\n  minimised:\n{minimised}\n  reproduce: MITHRIL_FUZZ_SEED={seed} MITHRIL_FUZZ_CASE={case} cargo test -p mithril-dsl --test fuzz\n",
            case = f.case,
            kind = f.kind,
            fault = f.fault,
            input = f.input,
            minimised = f.minimised,
            seed = config.seed,
        );
    }
    assert!(
        report.failures.is_empty(),
        "{} of {} cases failed (seed {}); the first:{message}\nAdd each minimised input to mithril-dsl/tests/fuzz/corpus/ and fix the macro.",
        report.failed_cases,
        report.cases,
        config.seed
    );
    if config.cases.end - config.cases.start >= DEFAULT_CASES {
        assert!(report.inputs >= DEFAULT_CASES);
        // The generators reach the checks and the expansion, not only the parser.
        assert!(
            report.clean * 20 >= report.inputs,
            "only {} of {} inputs expanded without errors",
            report.clean,
            report.inputs
        );
    }
}

/// Inputs that once broke the macro, replayed.
#[test]
fn corpus_inputs_expand_or_report_errors() {
    let dir = seeds::workspace().join("mithril-dsl/tests/fuzz/corpus");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            (
                f.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(f).unwrap(),
            )
        })
        .collect();
    let config = Config {
        seed: 0,
        cases: 0..texts.len() as u64,
        timeout: Duration::from_secs(60),
        threads: 1,
    };
    let inputs = Arc::new(texts.clone());
    let report = harness::run(
        &config,
        Arc::new(move |case, sink: &mut dyn Sink| {
            let (name, text) = &inputs[case as usize];
            let tokens = text
                .parse()
                .unwrap_or_else(|e| panic!("{name} is not tokens: {e}"));
            let _ = sink.check(tokens);
            "corpus"
        }),
    );
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|f| format!("{}: {}", texts[f.case as usize].0, f.fault))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(report.inputs, texts.len() as u64);
}

/// The models the mutations start from: many, and those in sources that
/// compile expand without errors.
#[test]
fn workspace_models_expand_cleanly() {
    let found = seeds::collect();
    let valid: Vec<_> = found.iter().filter(|s| s.valid).collect();
    println!(
        "{} models in the workspace, {} in sources that compile",
        found.len(),
        valid.len()
    );
    assert!(valid.len() >= 50, "only {} models found", valid.len());
    for s in valid {
        let output = harness::expand(s.text.parse().unwrap())
            .unwrap_or_else(|f| panic!("{}: {f}\n{}", s.origin, s.text));
        assert!(!output.has_errors, "{}: {}", s.origin, s.text);
    }
}

/// Writes the inputs of the coverage-guided target (`mithril-dsl/fuzz`):
/// the workspace's models and the corpus as a starting corpus, and the
/// language's words as a dictionary. By hand, before `cargo fuzz run`
/// (docs/reliability.md).
#[test]
#[ignore = "writes files; run by hand for cargo-fuzz"]
fn export_for_cargo_fuzz() {
    let fuzz = seeds::workspace().join("mithril-dsl/fuzz");
    let corpus = fuzz.join("corpus/expand");
    fs::create_dir_all(&corpus).unwrap();
    let mut inputs: Vec<String> = seeds::collect().into_iter().map(|s| s.text).collect();
    for entry in fs::read_dir(fuzz.join("../tests/fuzz/corpus")).unwrap() {
        inputs.push(fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    inputs.extend(pools(0).signatures.iter().map(|s| format!("@__mithril_continue [\"zoo::Block\"] {{ Net {{ input x: [B, 4]; x -> zoo::Block => y; output y; }} }} {s}")));
    for (i, text) in inputs.iter().enumerate() {
        fs::write(corpus.join(format!("workspace-{i}")), text).unwrap();
    }
    let mut words: Vec<String> = [
        "input",
        "output",
        "->",
        "=>",
        ";",
        ":",
        "::",
        ",",
        "*",
        "=",
        "-",
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        "@__mithril_continue",
        "r#",
        "pub",
        "pub(crate)",
        "#[doc = \"\"]",
        "///",
        "self",
        "Self",
        "super",
        "crate",
        "4096",
        "4097",
        "2147483647",
        "2147483648",
        "1e999",
        "B",
        "\"mithril-dsl 0.1.0 signature 1\"",
        "ok",
        "failed",
        "same",
        "true",
        "false",
    ]
    .iter()
    .map(|w| w.to_string())
    .collect();
    for layer in mithril_core::layers::CATALOGUE {
        words.push(layer.name.to_string());
        words.extend(layer.args.iter().map(|a| a.name.to_string()));
    }
    words.sort();
    words.dedup();
    let dict: String = words.iter().map(|w| format!("{w:?}\n")).collect();
    fs::write(fuzz.join("expand.dict"), dict).unwrap();
    println!(
        "{} inputs in {}, {} words in expand.dict",
        inputs.len(),
        corpus.display(),
        words.len()
    );
}

//! Conformance with transformers: a tiny `GPT2LMHeadModel` checkpoint
//! (tests/fixtures/gpt2-tiny, made by scripts/fixtures/make_gpt2_hf_fixture.py
//! with random weights, nothing downloaded) read through its config.json and
//! the Hugging Face mapping gives transformers' logits, and greedy decoding
//! gives `generate(do_sample=False)`'s 64 tokens exactly.

mod common;

use std::path::{Path, PathBuf};

use mithril::Family;
use mithril::mlx_rs::Array;
use mithril::mlx_rs::ops::indexing::{IndexOp, argmax_axis};
use mithril::prelude::*;
use mithril_zoo::gpt::{Gpt2, Gpt2Inputs, config_from_hugging_face, hugging_face};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gpt2-tiny")
}

fn reference(name: &str) -> Result<Array, Box<dyn std::error::Error>> {
    common::tensor(&fixture().join("reference.safetensors"), name)
}

/// The fixture's model: its config.json instantiates the family, its
/// safetensors fill the parameters.
fn load() -> Result<(mithril::Instance<Gpt2>, <Gpt2 as Family>::Params), Box<dyn std::error::Error>>
{
    let config =
        config_from_hugging_face(&std::fs::read_to_string(fixture().join("config.json"))?)?;
    let gpt = Gpt2::instance(&config)?;
    let params = hugging_face().import_graph::<Gpt2>(
        gpt.graph(),
        fixture().join("model.safetensors"),
        DType::F32,
    )?;
    Ok((gpt, params))
}

fn positions(t: i32) -> Array {
    Array::from_slice(&(0..t).collect::<Vec<i32>>(), &[t])
}

#[test]
fn logits_equal_transformers() -> Result<(), Box<dyn std::error::Error>> {
    let (gpt, params) = load()?;
    let prompt = reference("prompt")?;
    let t = prompt.shape()[1];
    let out = gpt.forward(
        &params,
        &Gpt2Inputs {
            tokens: prompt,
            positions: positions(t),
        },
    )?;
    let expected = reference("logits")?;
    assert_eq!(out.logits.shape(), expected.shape());
    let diff = out
        .logits
        .subtract(&expected)?
        .abs()?
        .max(None)?
        .item_cast::<f32>();
    assert!(
        diff <= 1e-4,
        "largest difference from transformers' logits: {diff}"
    );
    Ok(())
}

#[test]
fn greedy_tokens_equal_transformers_generate() -> Result<(), Box<dyn std::error::Error>> {
    let (gpt, params) = load()?;
    let backend = MlxBackend::builder().build()?;
    let mut model = gpt.compile(&backend);
    let expected = reference("greedy")?;
    let expected: Vec<i32> = expected.as_slice::<i32>().to_vec();
    let prompt = reference("prompt")?;
    let mut tokens: Vec<i32> = prompt.as_slice::<i32>().to_vec();
    let start = tokens.len();
    // The whole window each step (no cache yet): the model's tokens are
    // transformers' tokens.
    while tokens.len() < expected.len() {
        let t = tokens.len() as i32;
        let out = model.evaluate(
            &params,
            &Gpt2Inputs {
                tokens: Array::from_slice(&tokens, &[1, t]),
                positions: positions(t),
            },
        )?;
        let last = out.logits.index((0, t - 1));
        tokens.push(argmax_axis(&last, -1, None)?.item_cast::<i32>());
    }
    assert_eq!(&tokens[start..], &expected[start..]);
    Ok(())
}

/// Damaged checkpoints are typed errors naming the file, and nothing is
/// read half-way: every truncation of the fixture, and a header that lies
/// about a tensor's size.
#[test]
fn damaged_checkpoints_are_typed_errors() -> Result<(), Box<dyn std::error::Error>> {
    let (gpt, _) = load()?;
    let bytes = std::fs::read(fixture().join("model.safetensors"))?;
    let dir = std::env::temp_dir().join(format!("mithril-hf-damaged-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("model.safetensors");
    for cut in [0, 7, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut])?;
        match hugging_face().import_graph::<Gpt2>(gpt.graph(), &path, DType::F32) {
            Err(mithril::Error::Format { path: p, .. }) => assert_eq!(p, path),
            other => panic!("a file cut at {cut} bytes: {:?}", other.map(|_| ())),
        }
    }
    // The header's first shape made larger than its data.
    let header_len = u64::from_le_bytes(bytes[..8].try_into()?) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len])?;
    let lying = header.replacen("[512,64]", "[513,64]", 1);
    assert_ne!(lying, header);
    let mut file = (lying.len() as u64).to_le_bytes().to_vec();
    file.extend(lying.as_bytes());
    file.extend(&bytes[8 + header_len..]);
    std::fs::write(&path, &file)?;
    let err = hugging_face().import_graph::<Gpt2>(gpt.graph(), &path, DType::F32);
    assert!(
        matches!(err, Err(mithril::Error::Format { .. })),
        "{:?}",
        err.map(|_| ())
    );
    // A missing file.
    let err = hugging_face().import_graph::<Gpt2>(gpt.graph(), dir.join("none"), DType::F32);
    assert!(matches!(err, Err(mithril::Error::Io { .. })));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

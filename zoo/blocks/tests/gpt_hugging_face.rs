//! Conformance with transformers: a tiny `GPT2LMHeadModel` checkpoint
//! (tests/fixtures/gpt2-tiny, made by scripts/fixtures/make_gpt2_hf_fixture.py
//! with random weights, nothing downloaded) read through its config.json and
//! the Hugging Face mapping gives transformers' logits, and greedy decoding,
//! with and without a KV cache, gives `generate(do_sample=False)`'s 64
//! tokens exactly, also for a padded batch of prompts.

mod common;

use std::path::{Path, PathBuf};

use mithril::Family;
use mithril::decode::{Decoder, GenerationConfig, GenerationError, Sampling};
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
    Array::from_slice(&(0..t).collect::<Vec<i32>>(), &[1, t])
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
    let diff = common::largest_difference(&out.logits, &expected)?;
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

/// A KV-cache decoder of the fixture's model, on a backend in graph mode.
fn decoder() -> Result<(Decoder<Gpt2>, usize), Box<dyn std::error::Error>> {
    let config =
        config_from_hugging_face(&std::fs::read_to_string(fixture().join("config.json"))?)?;
    let (gpt, params) = load()?;
    let backend = MlxBackend::builder().build()?;
    Ok((
        gpt.decoder(&params, &backend, config.context)?,
        config.context,
    ))
}

fn ids(a: &Array) -> Vec<u32> {
    a.as_slice::<i32>().iter().map(|&i| i as u32).collect()
}

#[test]
fn cached_greedy_tokens_equal_transformers_generate() -> Result<(), Box<dyn std::error::Error>> {
    let (mut decoder, _) = decoder()?;
    let prompt = ids(&reference("prompt")?);
    let expected = ids(&reference("greedy")?);
    let out = decoder.generate(&[&prompt], &GenerationConfig::greedy(64))?;
    assert_eq!(out.tokens[0], expected[prompt.len()..]);
    assert_eq!(out.steps, 63);
    // One trace for the prompt, one for the step at each cache size (64 and
    // 128 positions for 12 + 64 tokens): none per token.
    assert_eq!(decoder.traces(), 3);
    // Another prompt of the same length reuses them.
    let other: Vec<u32> = prompt.iter().map(|&t| (t * 7 + 1) % 512).collect();
    decoder.generate(&[&other], &GenerationConfig::greedy(64))?;
    assert_eq!(decoder.traces(), 3);
    Ok(())
}

/// Prompts of different lengths in one batch, left-padded and masked, give
/// each prompt's own continuation: transformers' tokens for the batch.
#[test]
fn padded_batch_equals_transformers_generate() -> Result<(), Box<dyn std::error::Error>> {
    let (mut decoder, _) = decoder()?;
    let padded = reference("batch_prompt")?;
    let mask = reference("batch_mask")?;
    let expected = reference("batch_greedy")?;
    let (rows, width) = (padded.shape()[0] as usize, padded.shape()[1] as usize);
    let (padded, mask, expected) = (ids(&padded), ids(&mask), ids(&expected));
    let prompts: Vec<Vec<u32>> = (0..rows)
        .map(|r| {
            (0..width)
                .filter(|&i| mask[r * width + i] == 1)
                .map(|i| padded[r * width + i])
                .collect()
        })
        .collect();
    let new = expected.len() / rows - width;
    let out = decoder.generate(&prompts, &GenerationConfig::greedy(new))?;
    for (r, tokens) in out.tokens.iter().enumerate() {
        let start = r * (width + new) + width;
        assert_eq!(tokens, &expected[start..start + new], "prompt {r}");
    }
    Ok(())
}

/// Steps of one token give the logits of the whole window at each length.
#[test]
fn steps_equal_the_whole_window() -> Result<(), Box<dyn std::error::Error>> {
    let (gpt, params) = load()?;
    let (mut decoder, _) = decoder()?;
    let tokens = ids(&reference("prompt")?);
    let (mut logits, mut cache) = decoder.prefill(&[&tokens[..4]])?;
    for t in 4..=tokens.len() {
        let window: Vec<i32> = tokens[..t].iter().map(|&i| i as i32).collect();
        let full = gpt
            .forward(
                &params,
                &Gpt2Inputs {
                    tokens: Array::from_slice(&window, &[1, t as i32]),
                    positions: positions(t as i32),
                },
            )?
            .logits
            .index((.., -1, ..));
        let diff = common::largest_difference(&logits, &full)?;
        assert!(diff <= 1e-4, "length {t}: {diff}");
        if t < tokens.len() {
            logits = decoder.step(&tokens[t..t + 1], &mut cache)?;
        }
    }
    assert_eq!(cache.len(), tokens.len());
    assert_eq!(cache.lengths(), &[tokens.len()]);
    assert_eq!(cache.layers().count(), 2);
    Ok(())
}

#[test]
fn sampling_is_seeded_and_its_limits_hold() -> Result<(), Box<dyn std::error::Error>> {
    let (mut decoder, _) = decoder()?;
    let prompt = ids(&reference("prompt")?);
    let greedy = decoder
        .generate(&[&prompt], &GenerationConfig::greedy(24))?
        .tokens;
    let sample = |decoder: &mut Decoder<Gpt2>, sampling: Sampling| {
        decoder
            .generate(
                &[&prompt, &prompt],
                &GenerationConfig::greedy(24).sampling(sampling),
            )
            .map(|g| g.tokens)
    };
    let a = sample(&mut decoder, Sampling::random(1.0, 7))?;
    assert_eq!(a, sample(&mut decoder, Sampling::random(1.0, 7))?);
    assert_ne!(a, sample(&mut decoder, Sampling::random(1.0, 8))?);
    // The two rows draw independently.
    assert_ne!(a[0], a[1]);
    // Top-k of 1, and a nucleus holding only the most likely token, are greedy.
    let k1 = sample(&mut decoder, Sampling::random(1.5, 3).top_k(1))?;
    assert_eq!(k1, vec![greedy[0].clone(), greedy[0].clone()]);
    let p = sample(&mut decoder, Sampling::random(1.0, 3).top_p(1e-6))?;
    assert_eq!(p, k1);
    // Top-k draws only among the k most likely tokens of each step.
    let (logits, _) = decoder.prefill(&[&prompt])?;
    let ranked = mithril::mlx_rs::ops::argsort_axis(&logits.negative()?, -1)?;
    let top3: Vec<u32> = ranked.index((0, ..3)).as_slice::<u32>().to_vec();
    for seed in 0..20 {
        let first = decoder.generate(
            &[&prompt],
            &GenerationConfig::greedy(1).sampling(Sampling::random(5.0, seed).top_k(3)),
        )?;
        assert!(top3.contains(&first.tokens[0][0]), "{top3:?}");
    }
    Ok(())
}

#[test]
fn a_stop_token_ends_its_row() -> Result<(), Box<dyn std::error::Error>> {
    let (mut decoder, _) = decoder()?;
    let prompt = ids(&reference("prompt")?);
    let greedy = decoder
        .generate(&[&prompt], &GenerationConfig::greedy(32))?
        .tokens;
    let stop = greedy[0][4];
    let first = greedy[0].iter().position(|&t| t == stop).unwrap_or(4);
    let out = decoder.generate(
        &[&prompt, &prompt[..5]],
        &GenerationConfig::greedy(32).stop([stop]),
    )?;
    assert_eq!(out.tokens[0], greedy[0][..=first]);
    // The other row runs on until it stops or reaches the limit.
    assert!(out.tokens[1].len() == 32 || out.tokens[1].last() == Some(&stop));
    Ok(())
}

/// Bad requests are typed errors naming what is wrong; nothing panics.
#[test]
fn bad_requests_are_typed_errors() -> Result<(), Box<dyn std::error::Error>> {
    let (mut decoder, context) = decoder()?;
    let greedy = GenerationConfig::greedy(4);
    let too_long = vec![1u32; context];
    match decoder.generate(&[&too_long], &greedy) {
        Err(mithril::Error::Generation(GenerationError::TooLong {
            row: 0,
            prompt,
            new: 4,
            context: c,
        })) => assert_eq!((prompt, c), (context, context)),
        other => panic!("{:?}", other.map(|_| ())),
    }
    let err = decoder.generate(&[vec![1u32, 2], vec![3, 512]], &greedy);
    match err {
        Err(mithril::Error::Generation(e @ GenerationError::UnknownToken { .. })) => {
            assert_eq!(
                e.to_string(),
                "prompt 1, position 1: token id 512 is not in the vocabulary of 512"
            );
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    let empty: [Vec<u32>; 1] = [vec![]];
    assert!(matches!(
        decoder.generate(&empty, &greedy),
        Err(mithril::Error::Generation(GenerationError::EmptyPrompt(_)))
    ));
    for sampling in [
        Sampling::random(0.0, 1),
        Sampling::random(f32::NAN, 1),
        Sampling::random(1.0, 1).top_k(0),
        Sampling::random(1.0, 1).top_p(1.5),
    ] {
        assert!(matches!(
            decoder.generate(&[[1u32]], &greedy.clone().sampling(sampling)),
            Err(mithril::Error::Generation(GenerationError::Setting { .. }))
        ));
    }
    // A step for the wrong number of rows, an unknown id, and one past the
    // context.
    let (_, mut cache) = decoder.prefill(&[vec![1u32; context - 1]])?;
    assert_eq!(cache.capacity(), context.div_ceil(64) * 64);
    assert!(matches!(
        decoder.step(&[3, 4], &mut cache),
        Err(mithril::Error::Generation(GenerationError::Batch {
            batch: 1,
            found: 2
        }))
    ));
    assert!(matches!(
        decoder.step(&[600], &mut cache),
        Err(mithril::Error::Generation(GenerationError::UnknownToken {
            id: 600,
            ..
        }))
    ));
    decoder.step(&[3], &mut cache)?;
    assert!(matches!(
        decoder.step(&[3], &mut cache),
        Err(mithril::Error::Generation(GenerationError::TooLong { .. }))
    ));
    Ok(())
}

/// The fixture's tokenizer.json, read with the `tokenizers` crate, gives
/// the ids the Python library gave, and decodes them back.
#[test]
fn the_tokenizer_reads_as_in_python() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let tokenizer = tokenizers::Tokenizer::from_file(fixture().join("tokenizer.json"))?;
    let text = "First Citizen: Before we proceed any further, hear me speak.";
    let encoding = tokenizer.encode(text, false)?;
    let expected = ids(&reference("sample_ids").map_err(|e| e.to_string())?);
    assert_eq!(encoding.get_ids(), expected);
    assert_eq!(tokenizer.decode(encoding.get_ids(), false)?, text);
    Ok(())
}

//! Conformance with transformers: a tiny `ViTForImageClassification`
//! (tests/fixtures/vit-tiny, made by scripts/fixtures/make_vit_hf_fixture.py
//! with random weights, nothing downloaded) read through its config.json
//! and the Hugging Face mapping gives transformers' logits, and an export
//! gives back the file's tensors.

mod common;

use std::path::{Path, PathBuf};

use mithril::mlx_rs::Array;
use mithril::prelude::*;
use mithril_zoo::vit::{Vit, VitInputs, config_from_hugging_face, hugging_face};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vit-tiny")
        .join(name)
}

fn reference(name: &str) -> Result<Array, Box<dyn std::error::Error>> {
    common::tensor(&fixture("reference.safetensors"), name)
}

#[test]
fn logits_equal_transformers_and_the_file_round_trips() -> Result<(), Box<dyn std::error::Error>> {
    let config = config_from_hugging_face(&std::fs::read_to_string(fixture("config.json"))?)?;
    assert_eq!(
        (config.size, config.patch, config.d, config.classes),
        (32, 8, 32, 10)
    );
    assert_eq!(config.eps, 1e-12);
    let vit = Vit::instance(&config)?;
    let params = hugging_face().import_graph::<Vit>(
        vit.graph(),
        fixture("model.safetensors"),
        DType::F32,
    )?;
    let image = reference("image")?.transpose_axes(&[0, 2, 3, 1])?;
    let tokens = (config.size / config.patch).pow(2) as i32 + 1;
    let positions = Array::from_slice(&(0..tokens).collect::<Vec<i32>>(), &[tokens]);
    let out = vit.forward(&params, &VitInputs { image, positions })?;
    let diff = common::largest_difference(&out.logits, &reference("logits")?)?;
    assert!(
        diff <= 1e-4,
        "largest difference from transformers' logits: {diff}"
    );

    let dir = std::env::temp_dir().join(format!("mithril-vit-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("model.safetensors");
    hugging_face().export_graph::<Vit>(vit.graph(), &params, &path)?;
    let (original, written) = (
        std::fs::read(fixture("model.safetensors"))?,
        std::fs::read(&path)?,
    );
    let (original, written) = (
        safetensors::SafeTensors::deserialize(&original)?,
        safetensors::SafeTensors::deserialize(&written)?,
    );
    let mut names: Vec<&str> = original.names();
    names.sort();
    let mut back: Vec<&str> = written.names();
    back.sort();
    assert_eq!(names, back);
    for name in names {
        let (a, b) = (original.tensor(name)?, written.tensor(name)?);
        assert_eq!((a.shape(), a.data()), (b.shape(), b.data()), "{name}");
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

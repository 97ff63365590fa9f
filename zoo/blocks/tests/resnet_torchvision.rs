//! Conformance with torchvision: narrow ResNets built with torchvision's
//! own `ResNet`, `BasicBlock` and `Bottleneck` classes (random weights and
//! batch-norm statistics; tests/fixtures/resnet, made by
//! scripts/fixtures/make_resnet_torchvision_fixture.py) read through the
//! torchvision mappings give torchvision's eval-mode logits, and a round
//! trip through the mappings gives the same tensors.

mod common;

use std::path::{Path, PathBuf};

use mithril::mlx_rs::Array;
use mithril::prelude::*;
use mithril_zoo::resnet::{
    BasicResNetInputs, BottleneckResNetInputs, BottleneckTiny, ResNetTiny, torchvision_basic,
    torchvision_bottleneck,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/resnet")
        .join(name)
}

fn reference(name: &str) -> Result<Array, Box<dyn std::error::Error>> {
    common::tensor(&fixture("reference.safetensors"), name)
}

/// The reference image, NCHW as torchvision takes it, in mlx's NHWC.
fn image() -> Result<Array, Box<dyn std::error::Error>> {
    Ok(reference("image")?.transpose_axes(&[0, 2, 3, 1])?)
}

#[test]
fn resnet18_design_equals_torchvision() -> Result<(), Box<dyn std::error::Error>> {
    let params =
        torchvision_basic().import::<ResNetTiny>(fixture("basic.safetensors"), DType::F32)?;
    let out = ResNetTiny::forward(&params, &BasicResNetInputs { image: image()? })?;
    let diff = common::largest_difference(&out.logits, &reference("basic.logits")?)?;
    assert!(
        diff <= 1e-4,
        "largest difference from torchvision's logits: {diff}"
    );
    Ok(())
}

#[test]
fn resnet50_design_equals_torchvision() -> Result<(), Box<dyn std::error::Error>> {
    let params = torchvision_bottleneck()
        .import::<BottleneckTiny>(fixture("bottleneck.safetensors"), DType::F32)?;
    let out = BottleneckTiny::forward(&params, &BottleneckResNetInputs { image: image()? })?;
    let diff = common::largest_difference(&out.logits, &reference("bottleneck.logits")?)?;
    assert!(
        diff <= 1e-4,
        "largest difference from torchvision's logits: {diff}"
    );
    Ok(())
}

#[test]
fn torchvision_names_round_trip() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("mithril-tv-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("basic.safetensors");
    let params =
        torchvision_basic().import::<ResNetTiny>(fixture("basic.safetensors"), DType::F32)?;
    torchvision_basic().export::<ResNetTiny>(&params, &path)?;
    let original = std::fs::read(fixture("basic.safetensors"))?;
    let original = safetensors::SafeTensors::deserialize(&original)?;
    let written = std::fs::read(&path)?;
    let written = safetensors::SafeTensors::deserialize(&written)?;
    // Every tensor back under its name, byte for byte; only the counters
    // torchvision keeps (num_batches_tracked) are not the model's.
    let mut names: Vec<String> = original
        .names()
        .into_iter()
        .filter(|n| !n.ends_with("num_batches_tracked"))
        .map(str::to_string)
        .collect();
    names.sort();
    let mut back: Vec<String> = written.names().into_iter().map(str::to_string).collect();
    back.sort();
    assert_eq!(names, back);
    for name in &names {
        let (a, b) = (original.tensor(name)?, written.tensor(name)?);
        assert_eq!(a.shape(), b.shape(), "{name}");
        assert_eq!(a.data(), b.data(), "{name}");
    }
    // Another design's checkpoint: every mismatch in one error.
    let err = torchvision_bottleneck()
        .import::<BottleneckTiny>(fixture("basic.safetensors"), DType::F32)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing `layer1.first.conv3.weight`"), "{err}");
    assert!(
        err.contains(
            "`conv1.weight` (from `conv1.weight`): expected shape [4, 7, 7, 3], found [8, 7, 7, 3]"
        ),
        "{err}"
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

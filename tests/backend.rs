//! The MLX backend guide, section by section: configuration, tensors, lazy
//! evaluation, memory, saving and loading (with Python MLX interop), debugging.

use std::path::{Path, PathBuf};

use mithril::io::{load_params, save_params};
use mithril::prelude::*;
use mithril::tensor::{check_finite, has_nan, is_evaluated, to_vec};

mithril::model! {
    /// The classifier with mlx.nn's attribute names (fc1, fc2, fc3).
    pub Classifier {
        input x: [B, 784];
        x -> fc1: Linear(128) -> Relu -> fc2: Linear(64) -> Relu -> fc3: Linear(10) => logits;
        output logits;
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/interop")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mithril-backend-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn bits(params: &ClassifierParams) -> Vec<Vec<u8>> {
    params
        .to_arrays()
        .iter()
        .map(|a| {
            to_vec::<f32>(a)
                .unwrap()
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect()
        })
        .collect()
}

// --- configuration -------------------------------------------------------

#[test]
fn same_seed_gives_bit_identical_parameters() {
    let a = Classifier::init(&MlxBackend::builder().seed(7).build().unwrap()).unwrap();
    let b = Classifier::init(&MlxBackend::builder().seed(7).build().unwrap()).unwrap();
    let c = Classifier::init(&MlxBackend::builder().seed(8).build().unwrap()).unwrap();
    assert_eq!(bits(&a), bits(&b));
    assert_ne!(bits(&a), bits(&c));
    // mlx.nn's Linear init: uniform on +-1/sqrt(fan_in).
    let bound = 1.0 / 784f32.sqrt();
    assert!(
        to_vec::<f32>(&a.fc1.weight)
            .unwrap()
            .iter()
            .all(|w| w.abs() <= bound)
    );
}

#[test]
fn dtype_sets_parameter_and_activation_dtype() {
    for (dtype, mlx) in [
        (DType::F16, mithril::mlx_rs::Dtype::Float16),
        (DType::BF16, mithril::mlx_rs::Dtype::Bfloat16),
    ] {
        let backend = MlxBackend::builder()
            .dtype(dtype)
            .compute_precision(DType::F32)
            .build()
            .unwrap();
        let params = Classifier::init(&backend).unwrap();
        assert_eq!(params.fc1.weight.dtype(), mlx);
        let x = backend.ones(&[2, 784]).unwrap();
        let out = mithril::compile::<Classifier>(&backend)
            .evaluate(&params, &ClassifierInputs { x })
            .unwrap();
        assert_eq!(out.logits.dtype(), mlx);
    }
    assert_eq!("bf16".parse::<DType>().unwrap(), DType::BF16);
    assert_eq!(
        "f64".parse::<DType>().unwrap_err().to_string(),
        "invalid backend option `dtype`: unknown dtype `f64`; use f32, f16 or bf16"
    );
    assert_eq!(DType::F16.to_string(), "f16");
}

#[test]
fn unavailable_and_meaningless_options_are_refused() {
    if !mithril::gpu_available() {
        let err = MlxBackend::builder()
            .device(Device::Gpu)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("has no GPU"), "{err}");
        assert_eq!(MlxBackend::new().unwrap().device(), Device::Cpu);
    }
    let err = MlxBackend::builder().use_ane(true).build().unwrap_err();
    assert!(err.to_string().contains("no Apple Neural Engine"), "{err}");
    let err = MlxBackend::builder()
        .enable_mps_optimization(true)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("uses Metal directly"), "{err}");
    assert!(MlxBackend::builder().use_ane(false).build().is_ok());
}

#[test]
fn memory_limits_parse_and_take_effect() {
    for bad in ["4 parsecs", "GB", "-3MB"] {
        let err = MlxBackend::builder().memory_limit(bad).build().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid backend option `memory_limit`: cannot read"),
            "{err}"
        );
    }
    let before = MlxBackend::new().unwrap().memory_info().unwrap().limit;
    let backend = MlxBackend::builder()
        .memory_limit("3GiB")
        .cache_limit("256MB")
        .build()
        .unwrap();
    assert_eq!(backend.memory_limit(), Some(3 << 30));
    assert_eq!(backend.memory_info().unwrap().limit, 3 << 30);
    // Put the process-wide limit back for the other tests.
    MlxBackend::builder().memory_limit(before).build().unwrap();
}

// --- tensors and lazy evaluation ----------------------------------------

#[test]
fn tensors_are_created_converted_and_lazy() {
    let backend = MlxBackend::builder().seed(3).build().unwrap();
    let a = backend.from_nested(&[[1.0, 2.0], [3.0, 4.0]]).unwrap();
    assert_eq!(a.shape(), &[2, 2]);
    assert_eq!(to_vec::<f32>(&a).unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
    assert!(backend.array(&[1.0, 2.0, 3.0], &[2, 2]).is_err());
    assert_eq!(
        to_vec::<f32>(&backend.full(&[3], 2.5).unwrap()).unwrap(),
        vec![2.5; 3]
    );
    assert_eq!(
        to_vec::<f32>(&backend.zeros(&[2]).unwrap()).unwrap(),
        vec![0.0; 2]
    );
    let u = backend.uniform(&[1000], -1.0, 1.0).unwrap();
    assert!(
        to_vec::<f32>(&u)
            .unwrap()
            .iter()
            .all(|v| (-1.0..1.0).contains(v))
    );
    let n1 = backend.randn(&[4]).unwrap();
    let n2 = backend.randn(&[4]).unwrap();
    assert_ne!(to_vec::<f32>(&n1).unwrap(), to_vec::<f32>(&n2).unwrap());
    let again = MlxBackend::builder().seed(3).build().unwrap();
    again.uniform(&[1000], -1.0, 1.0).unwrap();
    assert_eq!(
        to_vec::<f32>(&again.randn(&[4]).unwrap()).unwrap(),
        to_vec::<f32>(&n1).unwrap()
    );

    // Nothing computes until read: the product stays pending until `to_vec`.
    let b = a.matmul(&a).unwrap();
    assert!(!is_evaluated(&b));
    assert_eq!(to_vec::<f32>(&b).unwrap(), vec![7.0, 10.0, 15.0, 22.0]);
    assert!(is_evaluated(&b));
    // A wrong element type is an error, not a reinterpretation.
    assert!(to_vec::<i32>(&b).is_err());
}

#[cfg(feature = "ndarray")]
#[test]
fn ndarray_round_trip() {
    let backend = MlxBackend::new().unwrap();
    let a = backend
        .from_nested(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        .unwrap();
    let nd = mithril::tensor::ndarray_conv::to_ndarray(&a).unwrap();
    assert_eq!(nd.shape(), &[2, 3]);
    assert_eq!(nd[[1, 2]], 6.0);
    let back = mithril::tensor::ndarray_conv::from_ndarray(&nd);
    assert_eq!(to_vec::<f32>(&back).unwrap(), to_vec::<f32>(&a).unwrap());
}

// --- memory ----------------------------------------------------------------

#[test]
fn memory_info_tracks_active_and_peak() {
    let backend = MlxBackend::new().unwrap();
    backend.reset_peak_memory().unwrap();
    let big = backend.ones(&[1024, 1024]).unwrap();
    big.eval().unwrap();
    let info = backend.memory_info().unwrap();
    assert!(info.active >= 4 << 20, "{info:?}");
    assert!(info.peak >= info.active);
    drop(big);
    backend.clear_cache().unwrap();
    assert_eq!(backend.memory_info().unwrap().cache, 0);
}

// --- saving and loading ----------------------------------------------------

#[test]
fn save_and_load_round_trip_atomically() {
    let backend = MlxBackend::builder().seed(5).build().unwrap();
    let params = Classifier::init(&backend).unwrap();
    let path = scratch("classifier.safetensors");
    std::fs::write(&path, b"an older file").unwrap();
    save_params::<Classifier>(&params, &path).unwrap();
    let loaded = load_params::<Classifier>(&path, DType::F32).unwrap();
    assert_eq!(bits(&loaded), bits(&params));
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn loading_reports_every_mismatch_and_rejects_corrupt_files() {
    mithril::model! {
        Wider {
            input x: [B, 784];
            x -> fc1: Linear(256) -> Relu -> fc2: Linear(64) -> Relu -> head: Linear(10) => logits;
            output logits;
        }
    }
    let backend = MlxBackend::builder().seed(1).build().unwrap();
    let path = scratch("wider.safetensors");
    save_params::<Wider>(&Wider::init(&backend).unwrap(), &path).unwrap();
    let err = load_params::<Classifier>(&path, DType::F32)
        .unwrap_err()
        .to_string();
    for expected in [
        "`fc1.weight`: expected shape [128, 784], found [256, 784]",
        "`fc1.bias`: expected shape [128], found [256]",
        "`fc2.weight`: expected shape [64, 128], found [64, 256]",
        "missing `fc3.weight`",
        "missing `fc3.bias`",
        "unexpected `head.weight`",
    ] {
        assert!(err.contains(expected), "{expected:?} not in:\n{err}");
    }
    let err = load_params::<Wider>(&path, DType::F16)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`fc1.weight`: expected dtype f16, found f32"),
        "{err}"
    );

    let bytes = std::fs::read(&path).unwrap();
    let truncated = scratch("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_params::<Wider>(&truncated, DType::F32)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a valid safetensors file"), "{err}");
    let garbage = scratch("garbage.safetensors");
    std::fs::write(&garbage, [0xffu8; 64]).unwrap();
    assert!(
        load_params::<Wider>(&garbage, DType::F32)
            .unwrap_err()
            .to_string()
            .contains("not a valid safetensors file")
    );
    assert!(matches!(
        load_params::<Wider>(scratch("absent.safetensors"), DType::F32),
        Err(Error::Io { .. })
    ));
}

/// Python MLX's `model.save_weights` file loads into our typed params and gives
/// the logits Python MLX computed (fixtures by scripts/fixtures/make_interop_fixtures.py).
#[test]
fn reads_weights_saved_by_python_mlx() {
    let params =
        load_params::<Classifier>(fixture("classifier_mlx.safetensors"), DType::F32).unwrap();
    let io =
        mithril::mlx_rs::Array::load_safetensors(fixture("classifier_io.safetensors")).unwrap();
    let out = Classifier::forward(&params, &ClassifierInputs { x: io["x"].clone() }).unwrap();
    let ours = to_vec::<f32>(&out.logits).unwrap();
    let theirs = to_vec::<f32>(&io["logits"]).unwrap();
    let worst = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    // On a GPU, MLX's f32 matmuls round like TF32 (about 1e-4 here).
    let tolerance = if std::env::var_os("MITHRIL_EXPECT_GPU").is_some() {
        5e-4
    } else {
        1e-5
    };
    assert!(worst < tolerance, "max |ours - python| = {worst}");
}

/// Our writer reproduces, byte for byte, the committed file that
/// scripts/fixtures/check_rust_safetensors.py loaded with Python MLX.
#[test]
fn writes_files_python_mlx_reads() {
    let params =
        load_params::<Classifier>(fixture("classifier_mlx.safetensors"), DType::F32).unwrap();
    let path = scratch("classifier_rust.safetensors");
    save_params::<Classifier>(&params, &path).unwrap();
    let committed = fixture("classifier_rust.safetensors");
    if std::env::var_os("MITHRIL_REGENERATE_FIXTURES").is_some() {
        std::fs::copy(&path, &committed).unwrap();
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&committed).unwrap()
    );
}

// --- debugging ---------------------------------------------------------------

#[test]
fn verbose_lowering_and_nan_checks() {
    let backend = MlxBackend::builder().verbose(true).build().unwrap();
    let params = Classifier::init(&backend).unwrap();
    let model = mithril::compile::<Classifier>(&backend);
    let mut args = params.to_arrays();
    args.push(backend.zeros(&[2, 784]).unwrap());
    let listing = model.lowering(&args).unwrap();
    assert!(listing.contains("fc1.weight"), "{listing}");
    assert!(
        listing.contains("parameters: 109386 in 6 arrays"),
        "{listing}"
    );
    assert!(listing.to_lowercase().contains("addmm"), "{listing}");

    let nan = backend.array(&[1.0, f32::NAN, 2.0], &[3]).unwrap();
    assert!(has_nan(&nan).unwrap());
    let err = check_finite("logits", &nan).unwrap_err();
    assert_eq!(
        err.to_string(),
        "logits holds non-finite values (1 NaN of 3 elements)"
    );
    assert!(check_finite("ok", &backend.ones(&[3]).unwrap()).is_ok());
}

#[test]
fn runtime_reports_the_loaded_mlx() {
    let info = mithril::runtime_info();
    assert_eq!(info.mlx_version, "0.32.2");
    if cfg!(target_os = "linux") && std::env::var_os("MITHRIL_EXPECT_GPU").is_none() {
        // The CPU wheel: no GPU, so asking for one is an error, not a silent CPU.
        assert_eq!((info.build, info.gpu_count), ("cpu", 0));
        assert!(!mithril::gpu_available());
    }
    if std::env::var_os("MITHRIL_EXPECT_GPU").is_some() {
        assert!(info.gpu_count > 0, "{info}");
        let backend = MlxBackend::builder().device(Device::Gpu).build().unwrap();
        assert_eq!(backend.device(), Device::Gpu);
    }
    assert!(info.to_string().starts_with("MLX 0.32.2 ("), "{info}");
}

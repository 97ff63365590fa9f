//! The GPT design trains: the CPU-sized model, in bf16 with f32 master
//! weights and AdamW through `Trainer`, as the GPU benchmark runs GPT-2 small.

use mithril::mlx_rs::builder::Builder;
use mithril::optimizers::AdamWBuilder;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};
use mithril_zoo::gpt::{
    Gpt2CheckpointedInputs, Gpt2Inputs, Gpt2Large, Gpt2Medium, Gpt2Small, Gpt2SmallCheckpointed,
    Gpt2SmallPadded, Gpt2Xl, GptSmall, GptTiny, GptTinyCheckpointed,
};

/// Token `t` of a sequence that repeats with period 7: easy to learn.
fn batch(b: i32, t: i32) -> (Array, Array) {
    let seq: Vec<i32> = (0..b * (t + 1))
        .map(|i| (i % (t + 1) * 3 + i / (t + 1)) % 7)
        .collect();
    let all = Array::from_slice(&seq, &[b, t + 1]);
    use mithril::mlx_rs::ops::indexing::IndexOp;
    (all.index((.., ..t)), all.index((.., 1..)))
}

#[test]
fn every_size_has_its_published_parameter_count() {
    // The token table is counted once (the head shares it).
    assert_eq!(Gpt2Small::PARAMETER_COUNT, 124_439_808);
    assert_eq!(Gpt2Medium::PARAMETER_COUNT, 354_823_168);
    assert_eq!(Gpt2Large::PARAMETER_COUNT, 774_030_080);
    assert_eq!(Gpt2Xl::PARAMETER_COUNT, 1_557_611_200);
    assert_eq!(Gpt2SmallPadded::PARAMETER_COUNT, 124_475_904);
    assert_eq!(
        GptSmall::PARAMETER_COUNT,
        50304 * 256 + 256 * 256 + 4 * 789_760 + 2 * 256
    );
    assert_eq!(Gpt2Xl::OUTPUT_SHAPES, &[("logits", "[B, T, 50257]")]);
}

#[test]
fn gpt2_small_has_gpt2s_parameter_paths() {
    let graph = mithril::runtime::graph_of::<Gpt2Small>();
    assert!(graph.weights.iter().all(|w| !w.path.starts_with("lm_head")));
    assert_eq!(graph.weights[0].path, "wte.weight");
    assert!(
        graph
            .weights
            .iter()
            .any(|w| w.path == "h.11.attn.out_proj.weight")
    );
}

#[test]
fn the_tiny_gpt_learns_in_bf16_with_f32_master_weights() -> Result<(), mithril::Error> {
    let backend = MlxBackend::builder()
        .seed(0)
        .dtype(DType::BF16)
        .master_weights(DType::F32)
        .compute_precision(DType::F32)
        .build()?;
    let mut params = GptTiny::init(&backend)?;
    assert_eq!(params.wte.weight.dtype(), mithril::mlx_rs::Dtype::Float32);
    let optimizer = AdamWBuilder::new(3e-3)
        .betas((0.9, 0.95))
        .weight_decay(0.01)
        .build()
        .map_err(|e| mithril::mlx_rs::error::Exception::custom(format!("{e:?}")))?;
    let objective = Objective::new("logits", Loss::cross_entropy());
    let mut trainer = Trainer::<GptTiny, _>::new(&backend, &objective, optimizer)?;
    let (t, b) = (32, 8);
    let (tokens, targets) = batch(b, t);
    let row: Vec<i32> = (0..t).collect();
    let positions = Array::from_slice(&row.repeat(b as usize), &[b, t]);
    let inputs = Gpt2Inputs { tokens, positions };
    let mut losses = Vec::new();
    for _ in 0..40 {
        let loss = trainer.step(&mut params, &inputs, &targets)?.loss;
        losses.push(
            loss.as_dtype(mithril::mlx_rs::Dtype::Float32)?
                .item_exact::<f32>(),
        );
    }
    // Untrained: near chance, ln(512) = 6.24, plus half the variance of the
    // logits (about 1 with mlx.nn's embedding init, tied); the sequence is
    // learnable.
    assert!((losses[0] - 512f32.ln()).abs() < 1.5, "{losses:?}");
    assert!(losses[39] < losses[0] / 3.0, "{losses:?}");
    assert_eq!(params.wte.weight.dtype(), mithril::mlx_rs::Dtype::Float32);
    Ok(())
}

#[test]
fn checkpointed_gpt_steps_as_the_plain_one() -> Result<(), mithril::Error> {
    assert_eq!(
        Gpt2SmallCheckpointed::PARAMETER_COUNT,
        Gpt2Small::PARAMETER_COUNT
    );
    let (t, b) = (16, 4);
    let (tokens, targets) = batch(b, t);
    let row: Vec<i32> = (0..t).collect();
    let positions = Array::from_slice(&row.repeat(b as usize), &[b, t]);
    let objective = Objective::new("logits", Loss::cross_entropy());
    let backend = MlxBackend::builder().seed(3).build()?;
    let mut plain = GptTiny::init(&backend)?;
    let mut marked = GptTinyCheckpointed::init(&backend)?;
    let mut plain_trainer = Trainer::<GptTiny, _>::new(&backend, &objective, Sgd::new(0.1))?;
    let mut marked_trainer =
        Trainer::<GptTinyCheckpointed, _>::new(&backend, &objective, Sgd::new(0.1))?;
    let plain_inputs = Gpt2Inputs {
        tokens: tokens.clone(),
        positions: positions.clone(),
    };
    let marked_inputs = Gpt2CheckpointedInputs { tokens, positions };
    for _ in 0..2 {
        let a = plain_trainer
            .step(&mut plain, &plain_inputs, &targets)?
            .loss;
        let b = marked_trainer
            .step(&mut marked, &marked_inputs, &targets)?
            .loss;
        assert!((a.item_exact::<f32>() - b.item_exact::<f32>()).abs() < 1e-6);
    }
    for (p, m) in plain.to_arrays().iter().zip(marked.to_arrays()) {
        let worst = p.subtract(&m)?.abs()?.max(None)?.item_exact::<f32>();
        assert!(worst < 1e-6, "parameters differ by {worst}");
    }
    Ok(())
}

/// The tiny GPT written under Hugging Face's names and read back: the
/// file has `GPT2LMHeadModel`'s keys and layouts, and the round trip gives
/// the same parameters and logits.
#[test]
fn hugging_face_names_round_trip() -> Result<(), Box<dyn std::error::Error>> {
    use mithril_zoo::gpt::hugging_face;
    let dir = std::env::temp_dir().join(format!("mithril-hf-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("model.safetensors");
    let backend = MlxBackend::builder().seed(1).build()?;
    let params = GptTiny::init(&backend)?;
    hugging_face().export::<GptTiny>(&params, &path)?;

    let bytes = std::fs::read(&path)?;
    let file = safetensors::SafeTensors::deserialize(&bytes)?;
    let shape = |key: &str| file.tensor(key).map(|t| t.shape().to_vec());
    assert_eq!(shape("transformer.wte.weight")?, [512, 64]);
    assert_eq!(shape("transformer.h.1.attn.c_attn.weight")?, [64, 192]);
    assert_eq!(shape("transformer.h.1.attn.c_attn.bias")?, [192]);
    assert_eq!(shape("transformer.h.0.mlp.c_fc.weight")?, [64, 256]);
    assert_eq!(shape("transformer.h.0.mlp.c_proj.weight")?, [256, 64]);
    assert!(file.tensor("lm_head.weight").is_err());
    assert_eq!(file.len(), 2 + 2 * 12 + 2);

    let again = hugging_face().import::<GptTiny>(&path, DType::F32)?;
    for (a, b) in params.to_arrays().iter().zip(again.to_arrays()) {
        assert!(a.eq_values(&b)?);
    }
    let tokens = Array::from_slice(&[3i32, 1, 4, 1, 5, 9], &[1, 6]);
    let positions = Array::from_slice(&[0i32, 1, 2, 3, 4, 5], &[1, 6]);
    let inputs = Gpt2Inputs { tokens, positions };
    let before = GptTiny::forward(&params, &inputs)?.logits;
    let after = GptTiny::forward(&again, &inputs)?.logits;
    assert!(before.eq_values(&after)?);

    // A checkpoint of another size: every mismatch in one error.
    let err = hugging_face()
        .import::<GptSmall>(&path, DType::F32)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`wte.weight` (from `transformer.wte.weight`): expected shape [50304, 256], found [512, 64]"), "{err}");
    assert!(err.contains("missing `h.3.ln_1.weight`"), "{err}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Hugging Face's config.json of GPT-2 small (the fields this family reads,
/// as the hub's `gpt2` has them) makes the run-time instance of GPT-2 small.
#[test]
fn hugging_face_config_makes_the_instance() -> Result<(), Box<dyn std::error::Error>> {
    use mithril_zoo::gpt::{ConfigError, Gpt2, config_from_hugging_face};
    let json = r#"{
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
        "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024,
        "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024,
        "vocab_size": 50257
    }"#;
    let config = config_from_hugging_face(json)?;
    let gpt = Gpt2::instance(&config)?;
    assert_eq!(gpt.parameter_count(), Gpt2Small::PARAMETER_COUNT);

    let err =
        config_from_hugging_face(&json.replace("\"n_head\": 12", "\"n_head\": 0")).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Field {
                field: "n_head",
                ..
            }
        ),
        "{err}"
    );
    let err = config_from_hugging_face(&json.replace("gelu_new", "relu")).unwrap_err();
    assert!(
        err.to_string()
            .contains("`activation_function` is \"relu\""),
        "{err}"
    );
    assert!(config_from_hugging_face("[1, 2]").is_err());
    // Sizes that parse but do not make a model: a typed error by layer.
    let odd = config_from_hugging_face(&json.replace("\"n_head\": 12", "\"n_head\": 10"))?;
    let err = Gpt2::instance(&odd).unwrap_err().to_string();
    assert!(err.contains("divisible by heads = 10"), "{err}");
    Ok(())
}

//! The Vision Transformer (ViT) in `model!`, in timm's and torchvision's
//! layout: the image cut into `patch`x`patch` patches by a convolution of
//! that kernel and stride (`patch_embed`), a learned class token in front
//! of the patches, learned position embeddings, pre-norm encoder blocks
//! (LayerNorm, multi-head self-attention with biases, LayerNorm, an MLP
//! with GELU), a final LayerNorm and a linear head on the class token.
//!
//! [`Vit`] is the family; [`EncoderBlock`] its block, written once. The
//! class token and the position embeddings are `Embedding` tables read at
//! fixed indices: the static input `positions` holds `0..tokens` (one
//! token per patch plus the class token), the position table is read at
//! every index, and the class token's one-row table at the first (index
//! 0). The class token is broadcast to the batch by adding it to a zero of
//! shape `[N, 1, 1]` taken from the patches.
//!
//! Instances at 224x224x3 with 1,000 classes, with torchvision's parameter
//! counts: [`VitB16`] (86,567,656), [`VitB32`] (88,224,232), [`VitL16`]
//! (304,326,632) and [`VitL32`] (306,535,400); and [`VitTiny`] (32x32
//! images, 2 blocks of 32: CPU tests).
//!
//! ```
//! use mithril::Model;
//! use mithril_zoo::vit::VitB16;
//! assert_eq!(VitB16::PARAMETER_COUNT, 86_567_656);
//! assert_eq!(
//!     VitB16::INPUT_SHAPES,
//!     &[("image", "[N, 224, 224, 3]"), ("positions", "[197]")]
//! );
//! assert!(VitB16::graph().weights.iter().any(|w| w.path == "blocks.11.mlp.fc2.bias"));
//! ```

use crate::config::ConfigJson;

mithril::model! {
    /// The MLP of an encoder block: `hidden` units with GELU, back to `d`.
    pub VitMlp(d: usize, hidden: usize) {
        input x: [N, T, d];
        x -> fc1: Linear(hidden) -> Gelu -> fc2: Linear(d) => y;
        output y;
    }

    /// A pre-norm encoder block of width `d`: self-attention with `heads`
    /// heads and an MLP of `hidden` units, each behind a LayerNorm (eps
    /// 1e-6) and a residual connection. It keeps its input's shape.
    pub EncoderBlock(d: usize, heads: usize, hidden: usize, eps: f64 = 1e-6) {
        input x: [N, T, d];
        x -> norm1: LayerNorm(eps = eps) -> attn: MultiHeadAttention(d, heads, bias = true) => a;
        Add(x, a) => h;
        h -> norm2: LayerNorm(eps = eps) -> mlp: VitMlp(d, hidden) => m;
        Add(h, m) => y;
        output y;
    }

    /// ViT: `size`x`size` images of `channels` channels, cut into
    /// `patch`x`patch` patches embedded at width `d`, `depth` encoder blocks
    /// of `heads` heads and MLPs of `hidden`, `classes` logits from the
    /// class token. `positions` holds `0, 1, .., tokens - 1` with
    /// `tokens = (size / patch)^2 + 1`.
    pub Vit(
        size: usize = 224,
        patch: usize = 16,
        channels: usize = 3,
        d: usize,
        depth: usize,
        heads: usize,
        hidden: usize,
        classes: usize = 1000,
        eps: f64 = 1e-6,
    ) {
        input image: [N, size, size, channels];
        static positions: [pow(size / patch, 2) + 1];
        image -> patch_embed: Conv2d(d, patch, stride = patch) -> Flatten(1, 2) => patches;
        // The class token, [1, d], broadcast to [N, 1, d].
        positions -> Slice(0, 0, 1) -> cls_token: Embedding(1, d) => cls;
        patches -> Slice(1, 0, 1) -> Slice(2, 0, 1) -> Multiply(0) => zero;
        Add(zero, cls) => cls_tokens;
        Concat(axis = 1)(cls_tokens, patches) => tokens;
        positions -> pos_embed: Embedding(pow(size / patch, 2) + 1, d) => position_vectors;
        Add(tokens, position_vectors)
            -> blocks: EncoderBlock(d, heads, hidden, eps) * depth
            -> norm: LayerNorm(eps = eps)
            -> Slice(1, 0, 1) -> Squeeze(1) -> head: Linear(classes) => logits;
        output logits;
    }

    /// ViT-B/16: 12 blocks of 768, 12 heads, MLP 3,072, 16x16 patches
    /// (86,567,656 parameters).
    pub VitB16 = Vit(d = 768, depth = 12, heads = 12, hidden = 3072);
    /// ViT-B/32: ViT-B with 32x32 patches (88,224,232 parameters).
    pub VitB32 = Vit(patch = 32, d = 768, depth = 12, heads = 12, hidden = 3072);
    /// ViT-L/16: 24 blocks of 1,024, 16 heads, MLP 4,096, 16x16 patches
    /// (304,326,632 parameters).
    pub VitL16 = Vit(d = 1024, depth = 24, heads = 16, hidden = 4096);
    /// ViT-L/32: ViT-L with 32x32 patches (306,535,400 parameters).
    pub VitL32 = Vit(patch = 32, d = 1024, depth = 24, heads = 16, hidden = 4096);
    /// The same design at CPU size: 32x32 images in 8x8 patches (17
    /// tokens), 2 blocks of 32 with 2 heads and MLPs of 64, 10 classes.
    pub VitTiny = Vit(size = 32, patch = 8, d = 32, depth = 2, heads = 2, hidden = 64, classes = 10);
}

/// Hugging Face's `ViTForImageClassification` checkpoint names
/// (`vit.encoder.layer.3.attention.attention.query.weight`) and [`Vit`]'s
/// paths, both ways: the patch embedding's convolution weight reordered
/// from PyTorch's `O × I × H × W`, the class token and position table
/// without their leading axis of length 1.
pub fn hugging_face() -> mithril::mapping::Mapping {
    use mithril::mapping::Mapping;
    let mut m = Mapping::new()
        .squeezed("vit.embeddings.cls_token", "cls_token.weight", 0)
        .squeezed("vit.embeddings.position_embeddings", "pos_embed.weight", 0)
        .permuted(
            "vit.embeddings.patch_embeddings.projection.weight",
            "patch_embed.weight",
            &[0, 2, 3, 1],
        )
        .rename(
            "vit.embeddings.patch_embeddings.projection.bias",
            "patch_embed.bias",
        );
    let layer = "vit.encoder.layer.{i}";
    let pairs = [
        ("layernorm_before", "norm1"),
        ("attention.attention.query", "attn.query_proj"),
        ("attention.attention.key", "attn.key_proj"),
        ("attention.attention.value", "attn.value_proj"),
        ("attention.output.dense", "attn.out_proj"),
        ("layernorm_after", "norm2"),
        ("intermediate.dense", "mlp.fc1"),
        ("output.dense", "mlp.fc2"),
    ];
    for (theirs, ours) in pairs {
        for part in ["weight", "bias"] {
            m = m.rename(
                &format!("{layer}.{theirs}.{part}"),
                &format!("blocks.{{i}}.{ours}.{part}"),
            );
        }
    }
    m.rename("vit.layernorm.weight", "norm.weight")
        .rename("vit.layernorm.bias", "norm.bias")
        .rename("classifier.weight", "head.weight")
        .rename("classifier.bias", "head.bias")
}

pub use crate::config::ConfigError;

/// The [`VitConfig`] that Hugging Face's ViT `config.json` describes
/// (`image_size`, `patch_size`, `num_channels`, `hidden_size`,
/// `num_hidden_layers`, `num_attention_heads`, `intermediate_size`,
/// `layer_norm_eps`, and the classes as `id2label`'s size), for
/// [`Vit::instance`].
pub fn config_from_hugging_face(json: &str) -> Result<VitConfig, ConfigError> {
    let config = ConfigJson::parse("ViT", json)?;
    config.only("hidden_act", "\"gelu\" (exact GELU)", |v| {
        v.as_str() == Some("gelu")
    })?;
    config.only("qkv_bias", "true", |v| v.as_bool() == Some(true))?;
    let eps = match config.get("layer_norm_eps") {
        None => 1e-12,
        Some(v) => v
            .as_f64()
            .filter(|e| *e > 0.0)
            .ok_or_else(|| config.wrong("layer_norm_eps", "a positive number"))?,
    };
    let classes = match config
        .get("id2label")
        .and_then(serde_json::Value::as_object)
    {
        Some(labels) if !labels.is_empty() => labels.len(),
        _ => config.size("num_labels")?,
    };
    Ok(VitConfig {
        size: config.size("image_size")?,
        patch: config.size("patch_size")?,
        channels: match config.get("num_channels") {
            None => 3,
            Some(_) => config.size("num_channels")?,
        },
        d: config.size("hidden_size")?,
        depth: config.size("num_hidden_layers")?,
        heads: config.size("num_attention_heads")?,
        hidden: config.size("intermediate_size")?,
        classes,
        eps,
    })
}

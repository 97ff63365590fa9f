//! The GPT-2-class model written by hand against mlx-rs: configuration,
//! parameters (f32 masters), the loss in a chosen compute precision, and the
//! FLOP count the table uses.

use mithril::mlx_rs::{
    self, Array, Dtype,
    error::Exception,
    fast::{self, ScaledDotProductAttentionMask},
    macros::ModuleParameters,
    module::Param,
    ops::{self, indexing::IndexOp},
};

/// LayerNorm epsilon of GPT-2 (and of PyTorch's default).
pub const LN_EPS: f32 = 1e-5;

/// A model size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Transformer blocks.
    pub layers: i32,
    /// Width of the residual stream.
    pub d_model: i32,
    /// Attention heads (`d_model / heads` per head).
    pub heads: i32,
    /// Vocabulary (the tied embedding / LM head has `vocab` rows).
    pub vocab: i32,
    /// Longest sequence (rows of the position embedding).
    pub context: i32,
}

impl Config {
    /// GPT-2 small: 12 layers, d = 768, 12 heads of 64, vocab 50,304 (GPT-2's
    /// 50,257 padded to a multiple of 64, as nanoGPT does), context 1,024.
    pub const GPT2_SMALL: Config = Config {
        layers: 12,
        d_model: 768,
        heads: 12,
        vocab: 50_304,
        context: 1024,
    };
    /// A launch-bound size: 4 layers of 256 (4 heads of 64), context 256.
    pub const SMALL: Config = Config {
        layers: 4,
        d_model: 256,
        heads: 4,
        vocab: 50_304,
        context: 256,
    };
    /// The CPU smoke size: 2 layers of 64 (2 heads of 32), vocab 512, context 64.
    pub const TINY: Config = Config {
        layers: 2,
        d_model: 64,
        heads: 2,
        vocab: 512,
        context: 64,
    };

    /// Width of one attention head.
    pub fn head_dim(&self) -> i32 {
        self.d_model / self.heads
    }

    /// Width of the MLP's hidden layer (4 d, GPT-2's).
    pub fn d_mlp(&self) -> i32 {
        4 * self.d_model
    }

    /// Every parameter, each tied array once.
    pub fn parameters(&self) -> u64 {
        let (l, d, v, t) = (
            self.layers as u64,
            self.d_model as u64,
            self.vocab as u64,
            self.context as u64,
        );
        let block = 2 * 2 * d              // two LayerNorms
            + d * 3 * d + 3 * d            // qkv
            + d * d + d                    // attention output
            + d * 4 * d + 4 * d            // MLP in
            + 4 * d * d + d; // MLP out
        v * d + t * d + l * block + 2 * d
    }

    /// N of the FLOP formula: every parameter once (the tied token embedding
    /// is the LM head's matrix product), the position embedding left out (a
    /// lookup, no products), as nanoGPT's `estimate_mfu` counts.
    pub fn flop_parameters(&self) -> u64 {
        self.parameters() - self.context as u64 * self.d_model as u64
    }

    /// FLOPs per token of a training step (forward and backward) at sequence
    /// length `seq`: PaLM's `6 N + 12 L T d` (appendix B), the attention term
    /// counting the full T x T score and value products.
    pub fn train_flops_per_token(&self, seq: i32) -> f64 {
        6.0 * self.flop_parameters() as f64
            + 12.0 * self.layers as f64 * seq as f64 * self.d_model as f64
    }

    /// FLOPs per token of a forward pass: a third of a training step's.
    pub fn forward_flops_per_token(&self, seq: i32) -> f64 {
        self.train_flops_per_token(seq) / 3.0
    }
}

/// How attention is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attention {
    /// `mlx_rs::fast::scaled_dot_product_attention` with the causal mask mode.
    Fused,
    /// The same written out: `softmax(q k^T * scale + mask) v` with an
    /// additive causal mask (prices the fused kernel).
    Unfused,
}

/// The precision of a step's arithmetic. Parameters stay f32 either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Numerics {
    /// The dtype matrix products, activations and attention run in.
    pub compute: Dtype,
    /// How attention is computed.
    pub attention: Attention,
}

impl Numerics {
    /// bf16 compute, fused attention: the benchmark's main setting.
    pub const BF16: Numerics = Numerics {
        compute: Dtype::Bfloat16,
        attention: Attention::Fused,
    };
    /// f32 compute, fused attention.
    pub const F32: Numerics = Numerics {
        compute: Dtype::Float32,
        attention: Attention::Fused,
    };
}

/// A LayerNorm's scale and shift.
#[derive(Debug, Clone, ModuleParameters)]
#[module(root = mithril::mlx_rs)]
pub struct Norm {
    /// Scale, ones at init.
    #[param]
    pub weight: Param<Array>,
    /// Shift, zeros at init.
    #[param]
    pub bias: Param<Array>,
}

/// A dense layer `y = x W^T + b`, `W` stored `[out, in]` as in PyTorch and mlx.nn.
#[derive(Debug, Clone, ModuleParameters)]
#[module(root = mithril::mlx_rs)]
pub struct Dense {
    /// `[out, in]`.
    #[param]
    pub weight: Param<Array>,
    /// `[out]`.
    #[param]
    pub bias: Param<Array>,
}

/// One pre-norm transformer block.
#[derive(Debug, Clone, ModuleParameters)]
#[module(root = mithril::mlx_rs)]
pub struct Block {
    /// LayerNorm before attention.
    #[param]
    pub ln1: Norm,
    /// Query, key and value projections in one `[3 d, d]` matrix.
    #[param]
    pub qkv: Dense,
    /// Attention output projection.
    #[param]
    pub proj: Dense,
    /// LayerNorm before the MLP.
    #[param]
    pub ln2: Norm,
    /// MLP `d -> 4 d`.
    #[param]
    pub fc: Dense,
    /// MLP `4 d -> d`.
    #[param]
    pub fc_proj: Dense,
}

/// GPT-2: token and position embeddings, pre-norm blocks, a final LayerNorm
/// and an LM head tied to the token embedding.
#[derive(Debug, Clone, ModuleParameters)]
#[module(root = mithril::mlx_rs)]
pub struct Gpt {
    /// `[vocab, d]`: the token embedding and the LM head's matrix.
    #[param]
    pub wte: Param<Array>,
    /// `[context, d]`.
    #[param]
    pub wpe: Param<Array>,
    /// The transformer blocks.
    #[param]
    pub blocks: Vec<Block>,
    /// The final LayerNorm.
    #[param]
    pub ln_f: Norm,
    /// The size (not a parameter).
    pub config: Config,
}

fn normal(shape: &[i32], std: f32, key: &Array) -> Result<Array, Exception> {
    mlx_rs::random::normal::<f32>(shape, 0.0, std, key)
}

fn norm(d: i32) -> Result<Norm, Exception> {
    Ok(Norm {
        weight: Param::new(Array::ones::<f32>(&[d])?),
        bias: Param::new(Array::zeros::<f32>(&[d])?),
    })
}

fn dense(inputs: i32, outputs: i32, std: f32, key: &Array) -> Result<Dense, Exception> {
    Ok(Dense {
        weight: Param::new(normal(&[outputs, inputs], std, key)?),
        bias: Param::new(Array::zeros::<f32>(&[outputs])?),
    })
}

impl Gpt {
    /// GPT-2's initialisation, f32: normal(0, 0.02) weights and embeddings,
    /// the two residual projections of each block scaled by `1 / sqrt(2 L)`,
    /// zero biases, unit LayerNorms. Drawn from `seed`.
    pub fn init(config: Config, seed: u64) -> Result<Gpt, Exception> {
        // One key per weight array, derived from the seed.
        let key = |i: i32| mlx_rs::random::key(seed.wrapping_mul(1 << 20).wrapping_add(i as u64));
        let (d, std) = (config.d_model, 0.02);
        let residual_std = std / (2.0 * config.layers as f32).sqrt();
        let mut blocks = Vec::new();
        for l in 0..config.layers {
            let k = 2 + 4 * l;
            blocks.push(Block {
                ln1: norm(d)?,
                qkv: dense(d, 3 * d, std, &key(k)?)?,
                proj: dense(d, d, residual_std, &key(k + 1)?)?,
                ln2: norm(d)?,
                fc: dense(d, config.d_mlp(), std, &key(k + 2)?)?,
                fc_proj: dense(config.d_mlp(), d, residual_std, &key(k + 3)?)?,
            });
        }
        Ok(Gpt {
            wte: Param::new(normal(&[config.vocab, d], std, &key(0)?)?),
            wpe: Param::new(normal(&[config.context, d], std, &key(1)?)?),
            blocks,
            ln_f: norm(d)?,
            config,
        })
    }
}

/// `a` in dtype `to` (no copy when it already is).
fn cast(a: &Array, to: Dtype) -> Result<Array, Exception> {
    if a.dtype() == to {
        Ok(a.clone())
    } else {
        a.as_dtype(to)
    }
}

/// A scalar constant in `dtype`, so it does not promote bf16 work to f32 (an
/// f32 scalar array would).
fn scalar(value: f32, dtype: Dtype) -> Result<Array, Exception> {
    cast(&Array::from_f32(value), dtype)
}

fn layer_norm(x: &Array, n: &Norm, dtype: Dtype) -> Result<Array, Exception> {
    let w = cast(&n.weight, dtype)?;
    let b = cast(&n.bias, dtype)?;
    fast::layer_norm(x, &w, &b, LN_EPS)
}

fn linear(x: &Array, l: &Dense, dtype: Dtype) -> Result<Array, Exception> {
    let w = cast(&l.weight, dtype)?;
    let b = cast(&l.bias, dtype)?;
    ops::addmm(&b, x, w.t(), None, None)
}

/// GELU, tanh approximation (GPT-2's): `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`,
/// computed in `x`'s dtype. (mlx-rs's `nn::gelu_approximate` uses f32 scalar
/// constants, which would turn bf16 activations into f32.)
pub fn gelu_tanh(x: &Array) -> Result<Array, Exception> {
    let dt = x.dtype();
    let cube = x.multiply(x)?.multiply(x)?;
    let inner = x
        .add(cube.multiply(scalar(0.044715, dt)?)?)?
        .multiply(scalar((2.0 / std::f32::consts::PI).sqrt(), dt)?)?;
    let gate = ops::tanh(&inner)?.add(scalar(1.0, dt)?)?;
    x.multiply(gate)?.multiply(scalar(0.5, dt)?)
}

/// Causal self-attention of `[B, T, d]` activations.
fn attention(x: &Array, block: &Block, config: &Config, n: Numerics) -> Result<Array, Exception> {
    let (b, t) = (x.shape()[0], x.shape()[1]);
    let (h, hd) = (config.heads, config.head_dim());
    let qkv = linear(x, &block.qkv, n.compute)?;
    // [B, T, 3 d] -> [3, B, H, T, hd]
    let qkv = qkv
        .reshape(&[b, t, 3, h, hd])?
        .transpose_axes(&[2, 0, 3, 1, 4])?;
    let (q, k, v) = (qkv.index(0), qkv.index(1), qkv.index(2));
    let scale = 1.0 / (hd as f32).sqrt();
    let y = match n.attention {
        Attention::Fused => fast::scaled_dot_product_attention(
            &q,
            &k,
            &v,
            scale,
            ScaledDotProductAttentionMask::Causal,
            None,
        )?,
        Attention::Unfused => {
            let scores = q
                .multiply(scalar(scale, n.compute)?)?
                .matmul(k.swap_axes(-1, -2)?)?;
            let rows = Array::from_iter(0..t, &[t, 1]);
            let cols = Array::from_iter(0..t, &[1, t]);
            let neg_inf = scalar(f32::NEG_INFINITY, n.compute)?;
            let mask = ops::select(&cols.gt(&rows)?, &neg_inf, scalar(0.0, n.compute)?)?;
            ops::softmax_axis(scores.add(mask)?, -1, true)?.matmul(&v)?
        }
    };
    // [B, H, T, hd] -> [B, T, d]
    let y = y
        .transpose_axes(&[0, 2, 1, 3])?
        .reshape(&[b, t, config.d_model])?;
    linear(&y, &block.proj, n.compute)
}

/// The logits `[B, T, vocab]`, in the compute dtype, of `tokens` `[B, T]`.
pub fn logits(model: &Gpt, tokens: &Array, n: Numerics) -> Result<Array, Exception> {
    let config = &model.config;
    let t = tokens.shape()[1];
    let dt = n.compute;
    // Looked up in f32 (the embedding's gradient is then a scatter-add in
    // f32, like PyTorch's embedding under autocast), then cast.
    let tok = model.wte.take_axis(tokens, 0)?;
    let pos = if t == config.context {
        model.wpe.value.clone()
    } else {
        model.wpe.index(0..t)
    };
    let mut x = cast(&tok.add(&pos)?, dt)?;
    for block in &model.blocks {
        x = x.add(attention(
            &layer_norm(&x, &block.ln1, dt)?,
            block,
            config,
            n,
        )?)?;
        let h = gelu_tanh(&linear(&layer_norm(&x, &block.ln2, dt)?, &block.fc, dt)?)?;
        x = x.add(linear(&h, &block.fc_proj, dt)?)?;
    }
    let x = layer_norm(&x, &model.ln_f, dt)?;
    x.matmul(cast(&model.wte, dt)?.t())
}

/// Mean next-token cross-entropy (f32) of `tokens` `[B, T]` against
/// `targets` `[B, T]`: `logsumexp(logits) - logits[target]`, the logits
/// taken to f32 first (as PyTorch's autocast does for `cross_entropy`).
pub fn loss(model: &Gpt, tokens: &Array, targets: &Array, n: Numerics) -> Result<Array, Exception> {
    let logits = logits(model, tokens, n)?.as_dtype(Dtype::Float32)?;
    let picked = logits.take_along_axis(targets.expand_dims(-1)?, -1)?;
    let lse = logits.logsumexp_axis(-1, true)?;
    lse.subtract(picked)?.mean(None)
}

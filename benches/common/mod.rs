//! Shared by `benches/compare.rs` and `benches/steps.rs`: the three workloads
//! of the comparison benchmarks, each as a `model!` definition and as the same network written
//! by hand against mlx-rs (`nn::Linear` / `nn::Conv2d` modules, `#[derive(ModuleParameters)]`,
//! `nn::value_and_grad`, Adam, `compile_with_state` over (model, optimizer)),
//! plus inputs and FLOP counts.
#![allow(dead_code)]

use std::collections::HashMap;
use std::error::Error;

use mithril::mlx_rs::{
    self, Array,
    builder::Builder,
    error::Exception,
    losses::CrossEntropy,
    macros::ModuleParameters,
    module::Module,
    nn,
    optimizers::{Adam, Optimizer},
};
use mithril::prelude::*;
use mithril::train::{Loss, Objective};

pub type BoxResult<T> = Result<T, Box<dyn Error>>;

// ---------------------------------------------------------------------------
// The DSL models.

mithril::model! {
    /// W1: the guide's classifier, 784-128-64-10.
    pub Mlp {
        input image: [B, 784];
        image -> fc1: Linear(128) -> Relu -> fc2: Linear(64) -> Relu -> fc3: Linear(10) => logits;
        output logits;
    }
}

mithril::model! {
    /// W2: the guide's CNN, NHWC.
    pub Cnn {
        input image: [B, 28, 28, 1];
        image -> conv1: Conv2d(filters = 16, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> conv2: Conv2d(filters = 32, kernel = 3, padding = same) -> Relu -> MaxPool2d(2)
              -> Flatten -> fc1: Linear(64) -> Relu -> fc2: Linear(10) => logits;
        output logits;
    }
}

mithril::model! {
    /// W3: a deep MLP, 784, eight hidden Linear(1024) + Relu, 10.
    pub DeepMlp {
        input image: [B, 784];
        image -> h1: Linear(1024) -> Relu -> h2: Linear(1024) -> Relu
              -> h3: Linear(1024) -> Relu -> h4: Linear(1024) -> Relu
              -> h5: Linear(1024) -> Relu -> h6: Linear(1024) -> Relu
              -> h7: Linear(1024) -> Relu -> h8: Linear(1024) -> Relu
              -> out: Linear(10) => logits;
        output logits;
    }
}

// ---------------------------------------------------------------------------
// The same networks, hand-written against mlx-rs.

/// A hand-written mlx-rs network: its forward pass, and how its flattened
/// parameter keys map to the DSL model's weight paths.
pub trait HandModel: mlx_rs::module::ModuleParameters + Clone + 'static {
    fn forward(&mut self, x: &Array) -> Result<Array, Exception>;
    /// The DSL path of the parameter this module flattens as `key`.
    fn dsl_path(key: &str) -> String {
        key.to_string()
    }
}

fn linear(i: i32, o: i32) -> Result<nn::Linear, Exception> {
    nn::LinearBuilder::new(i, o).build()
}

#[derive(Debug, Clone, ModuleParameters)]
#[module(root = mithril::mlx_rs)]
pub struct HandMlp {
    #[param]
    pub fc1: nn::Linear,
    #[param]
    pub fc2: nn::Linear,
    #[param]
    pub fc3: nn::Linear,
}

impl HandMlp {
    pub fn new() -> Result<Self, Exception> {
        Ok(HandMlp {
            fc1: linear(784, 128)?,
            fc2: linear(128, 64)?,
            fc3: linear(64, 10)?,
        })
    }
}

impl HandModel for HandMlp {
    fn forward(&mut self, x: &Array) -> Result<Array, Exception> {
        let h = nn::relu(self.fc1.forward(x)?)?;
        let h = nn::relu(self.fc2.forward(&h)?)?;
        self.fc3.forward(&h)
    }
}

/// 2x2 max pooling of NHWC `x` as Python MLX does it for non-overlapping
/// windows (and as mithril lowers it): reshape to [N, H/2, 2, W/2, 2, C], max.
pub fn max_pool_2x2(x: &Array) -> Result<Array, Exception> {
    let s = x.shape();
    let (n, h, w, c) = (s[0], s[1], s[2], s[3]);
    x.reshape(&[n, h / 2, 2, w / 2, 2, c])?
        .max_axes(&[2, 4], None)
}

#[derive(Debug, Clone, ModuleParameters)]
#[module(root = mithril::mlx_rs)]
pub struct HandCnn {
    #[param]
    pub conv1: nn::Conv2d,
    #[param]
    pub conv2: nn::Conv2d,
    #[param]
    pub fc1: nn::Linear,
    #[param]
    pub fc2: nn::Linear,
    /// How the 2x2 max pooling is written.
    pub pool: Pool,
}

/// Ways to write a 2x2 max pooling of NHWC arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pool {
    /// Reshape to [N, H/2, 2, W/2, 2, C], max over axes 2 and 4 (mithril's lowering).
    Reshape,
    /// Reshape, transpose to [N, H/2, W/2, 2, 2, C], max over axes 3 and 4
    /// (Python MLX's `nn.MaxPool2d` for non-overlapping windows).
    ReshapeTranspose,
    /// mlx-rs's `nn::MaxPool2d` (an `as_strided` view of the windows).
    NnMaxPool2d,
}

impl HandCnn {
    pub fn new(pool: Pool) -> Result<Self, Box<dyn Error>> {
        Ok(HandCnn {
            conv1: nn::Conv2dBuilder::new(1, 16, 3).padding(1).build()?,
            conv2: nn::Conv2dBuilder::new(16, 32, 3).padding(1).build()?,
            fc1: linear(7 * 7 * 32, 64)?,
            fc2: linear(64, 10)?,
            pool,
        })
    }

    fn pool(&self, x: &Array) -> Result<Array, Exception> {
        match self.pool {
            Pool::Reshape => max_pool_2x2(x),
            Pool::ReshapeTranspose => {
                let s = x.shape();
                let (n, h, w, c) = (s[0], s[1], s[2], s[3]);
                x.reshape(&[n, h / 2, 2, w / 2, 2, c])?
                    .transpose_axes(&[0, 1, 3, 2, 4, 5])?
                    .max_axes(&[3, 4], None)
            }
            Pool::NnMaxPool2d => nn::MaxPool2d::new(2, 2).forward(x),
        }
    }
}

impl HandModel for HandCnn {
    fn forward(&mut self, x: &Array) -> Result<Array, Exception> {
        let h = nn::relu(self.conv1.forward(x)?)?;
        let h = self.pool(&h)?;
        let h = nn::relu(self.conv2.forward(&h)?)?;
        let h = self.pool(&h)?;
        let n = h.shape()[0];
        let h = h.reshape(&[n, -1])?;
        let h = nn::relu(self.fc1.forward(&h)?)?;
        self.fc2.forward(&h)
    }
}

#[derive(Debug, Clone, ModuleParameters)]
#[module(root = mithril::mlx_rs)]
pub struct HandDeep {
    #[param]
    pub h: Vec<nn::Linear>,
    #[param]
    pub out: nn::Linear,
}

impl HandDeep {
    pub fn new() -> Result<Self, Exception> {
        let mut h = vec![linear(784, 1024)?];
        for _ in 1..8 {
            h.push(linear(1024, 1024)?);
        }
        Ok(HandDeep {
            h,
            out: linear(1024, 10)?,
        })
    }
}

impl HandModel for HandDeep {
    fn forward(&mut self, x: &Array) -> Result<Array, Exception> {
        let mut h = x.clone();
        for layer in &mut self.h {
            h = nn::relu(layer.forward(&h)?)?;
        }
        self.out.forward(&h)
    }

    /// `h.3.weight` is the DSL's `h4.weight`.
    fn dsl_path(key: &str) -> String {
        match key.strip_prefix("h.") {
            Some(rest) => {
                let (i, field) = rest.split_once('.').expect("h.<i>.<field>");
                format!("h{}.{field}", i.parse::<usize>().expect("index") + 1)
            }
            None => key.to_string(),
        }
    }
}

/// Softmax cross-entropy of the logits against class indices, mean over the
/// batch (what mithril's `Loss::cross_entropy()` computes).
pub fn hand_loss<H: HandModel>(model: &mut H, x: &Array, y: &Array) -> Result<Array, Exception> {
    let logits = model.forward(x)?;
    CrossEntropy::new()
        .map_err(|e| Exception::custom(e.to_string()))?
        .apply(&logits, y)?
        .mean(None)
}

/// One training step: forward, loss, backward (`nn::value_and_grad`), Adam.
/// `args` are the images and the labels. The standard mlx-rs pattern; the
/// compiled variant wraps this function in `compile_with_state`.
pub fn hand_step<H: HandModel>(
    state: &mut (H, Adam),
    args: &[Array],
) -> Result<Vec<Array>, Exception> {
    let (model, optimizer) = state;
    let mut value_and_grad =
        nn::value_and_grad(|m: &mut H, (x, y): (&Array, &Array)| hand_loss(m, x, y));
    let (loss, grads) = value_and_grad(model, (&args[0], &args[1]))?;
    optimizer.update(model, grads)?;
    Ok(vec![loss])
}

/// Every parameter array of a hand-written model.
pub fn hand_arrays<H: HandModel>(model: &H) -> Vec<Array> {
    model
        .parameters()
        .flatten()
        .into_values()
        .cloned()
        .collect()
}

/// Copies the DSL parameters into a hand-written model (so both start from
/// the same weights and their losses can be compared).
pub fn load_hand<M: Model, H: HandModel>(hand: &mut H, params: &M::Params) -> BoxResult<()> {
    let graph = mithril::runtime::graph_of::<M>();
    let arrays = params.to_arrays();
    let by_path: HashMap<&str, &Array> = graph
        .weights
        .iter()
        .map(|w| w.path.as_str())
        .zip(&arrays)
        .collect();
    let mut slots = hand.parameters_mut().flatten();
    if slots.len() != by_path.len() {
        return Err(format!(
            "{}: hand-written model has {} parameters, the DSL model {}",
            M::NAME,
            slots.len(),
            by_path.len()
        )
        .into());
    }
    for (key, slot) in slots.iter_mut() {
        let path = H::dsl_path(key);
        let value = by_path
            .get(path.as_str())
            .ok_or_else(|| format!("{}: no DSL parameter `{path}` for `{key}`", M::NAME))?;
        if slot.shape() != value.shape() {
            return Err(format!(
                "{}: `{key}` is {:?}, DSL `{path}` is {:?}",
                M::NAME,
                slot.shape(),
                value.shape()
            )
            .into());
        }
        **slot = (*value).clone();
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Workloads.

/// One layer, for FLOP counting.
#[derive(Clone, Copy, Debug)]
pub enum FlopLayer {
    /// A dense layer `in -> out`.
    Dense { inputs: u64, outputs: u64 },
    /// A convolution producing `h x w x cout` from `k x k x cin` windows.
    Conv {
        h: u64,
        w: u64,
        cin: u64,
        cout: u64,
        k: u64,
    },
}

impl FlopLayer {
    /// Multiply-adds x 2 per sample, forward.
    fn forward_per_sample(self) -> u64 {
        match self {
            FlopLayer::Dense { inputs, outputs } => 2 * inputs * outputs,
            FlopLayer::Conv { h, w, cin, cout, k } => 2 * h * w * cout * k * k * cin,
        }
    }
}

/// The FLOPs of a forward pass and of a training step at batch `batch`.
///
/// Counted: the matmuls and convolutions only (elementwise work, pooling, the
/// loss and Adam are O(activations + parameters) and left out). A training
/// step is the forward, the weight gradient of every layer (same FLOPs as its
/// forward) and the input gradient of every layer but the first (the images
/// are not differentiated): `3 * forward - first layer`.
pub fn flops(layers: &[FlopLayer], batch: u64) -> (f64, f64) {
    let per: Vec<u64> = layers.iter().map(|l| l.forward_per_sample()).collect();
    let forward: u64 = per.iter().sum::<u64>() * batch;
    let train = 3 * forward - per[0] * batch;
    (forward as f64, train as f64)
}

/// A workload: its id, network, batch, input shape and layer FLOPs.
#[derive(Clone, Debug)]
pub struct Workload {
    pub id: &'static str,
    pub network: &'static str,
    pub batch: i32,
    pub input: Vec<i32>,
    pub layers: Vec<FlopLayer>,
}

pub fn w1() -> Workload {
    Workload {
        id: "W1",
        network: "MLP 784-128-64-10",
        batch: 128,
        input: vec![784],
        layers: vec![
            FlopLayer::Dense {
                inputs: 784,
                outputs: 128,
            },
            FlopLayer::Dense {
                inputs: 128,
                outputs: 64,
            },
            FlopLayer::Dense {
                inputs: 64,
                outputs: 10,
            },
        ],
    }
}

pub fn w2() -> Workload {
    Workload {
        id: "W2",
        network: "CNN (guide's)",
        batch: 64,
        input: vec![28, 28, 1],
        layers: vec![
            FlopLayer::Conv {
                h: 28,
                w: 28,
                cin: 1,
                cout: 16,
                k: 3,
            },
            FlopLayer::Conv {
                h: 14,
                w: 14,
                cin: 16,
                cout: 32,
                k: 3,
            },
            FlopLayer::Dense {
                inputs: 7 * 7 * 32,
                outputs: 64,
            },
            FlopLayer::Dense {
                inputs: 64,
                outputs: 10,
            },
        ],
    }
}

pub fn w3() -> Workload {
    let mut layers = vec![FlopLayer::Dense {
        inputs: 784,
        outputs: 1024,
    }];
    for _ in 1..8 {
        layers.push(FlopLayer::Dense {
            inputs: 1024,
            outputs: 1024,
        });
    }
    layers.push(FlopLayer::Dense {
        inputs: 1024,
        outputs: 10,
    });
    Workload {
        id: "W3",
        network: "deep MLP 784-8x1024-10",
        batch: 256,
        input: vec![784],
        layers,
    }
}

impl Workload {
    /// "MLP 784-128-64-10, batch 128".
    pub fn description(&self) -> String {
        format!("{}, batch {}", self.network, self.batch)
    }

    /// Fixed inputs (standard normal) and labels (0..10), evaluated.
    pub fn data(&self, seed: u64) -> Result<(Array, Array), Exception> {
        let key = mlx_rs::random::key(seed)?;
        let (kx, ky) = mlx_rs::random::split(&key, 2)?;
        let mut shape = vec![self.batch];
        shape.extend(&self.input);
        let x = mlx_rs::random::normal::<f32>(&shape[..], None, None, &kx)?;
        let y = mlx_rs::random::randint::<_, i32>(0, 10, &[self.batch][..], &ky)?;
        mlx_rs::transforms::eval([&x, &y])?;
        Ok((x, y))
    }
}

/// The DSL model's inputs from one array.
pub fn dsl_inputs<M: Model>(x: &Array) -> M::Inputs {
    <M::Inputs as Values>::from_arrays(vec![x.clone()]).expect("one input")
}

/// The objective every DSL variant trains: mean softmax cross-entropy of `logits`.
pub fn objective() -> Objective {
    Objective::new("logits", Loss::cross_entropy())
}

/// Adam as every variant uses it.
pub fn adam() -> Adam {
    Adam::new(1e-3)
}

/// Evaluates everything a step produced, so no lazy work escapes the timing.
pub fn eval_all<'a>(arrays: impl IntoIterator<Item = &'a Array>) -> Result<(), Exception> {
    mlx_rs::transforms::eval(arrays)
}

/// A backend for the DSL variants (f32, CPU on Linux, fixed seed).
pub fn backend(graph_mode: bool) -> BoxResult<MlxBackend> {
    Ok(MlxBackend::builder()
        .seed(42)
        .graph_mode(graph_mode)
        .build()?)
}

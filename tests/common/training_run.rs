//! A small but complete training run for the checkpoint tests: weights,
//! batch statistics (buffers), dropout (the trainer's random key), Adam's
//! moments, and shuffled epochs whose last batch is short (a second traced
//! shape). Declare it with `#[path = "common/training_run.rs"] mod training_run;`.
#![allow(dead_code)] // Each test file uses part of it.

use std::collections::BTreeMap;
use std::path::Path;

use mithril::checkpoint::{Checkpoint, Progress};
use mithril::optimizers::Adam;
use mithril::prelude::*;
use mithril::train::{Loss, Objective, Trainer};

mithril::model! {
    /// Every kind of training state in a few hundred parameters.
    pub Tiny {
        input x: [B, 8];
        x -> fc1: Linear(16) -> bn: BatchNorm -> Relu -> drop: Dropout(0.25) -> fc2: Linear(3) => logits;
        output logits;
    }
}

/// Samples in the data set.
pub const SAMPLES: usize = 100;
/// Samples per step: 7 steps per epoch, the last one of 4 samples.
pub const BATCH: usize = 16;
/// Epochs of a whole run: 28 steps.
pub const EPOCHS: u64 = 4;
/// Adam's learning rate.
pub const LR: f32 = 0.02;

/// SplitMix64: the data and the shuffles, from seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Features in [-1, 1) and a label that a small network can learn.
pub fn data() -> (Vec<f32>, Vec<i32>) {
    let mut x = Vec::with_capacity(SAMPLES * 8);
    let mut y = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let row: Vec<f32> = (0..8)
            .map(|j| (mix((i * 8 + j) as u64) >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
            .collect();
        let score = [row[0] + row[1], row[2] - row[3], row[4] * row[5]];
        let label = (0..3)
            .max_by(|&a, &b| score[a].total_cmp(&score[b]))
            .unwrap_or(0);
        y.push(label as i32);
        x.extend(row);
    }
    (x, y)
}

/// The order of epoch `epoch`: a pure function of the seed and the epoch,
/// so a resumed run needs nothing else to continue the same sequence.
pub fn order(seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..SAMPLES).collect();
    let mut state = mix(seed ^ mix(epoch));
    for i in (1..order.len()).rev() {
        state = mix(state);
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    order
}

/// One batch of inputs and labels.
pub fn batch(data: &(Vec<f32>, Vec<i32>), indices: &[usize]) -> (TinyInputs, Array) {
    let x: Vec<f32> = indices
        .iter()
        .flat_map(|&i| data.0[i * 8..(i + 1) * 8].iter().copied())
        .collect();
    let y: Vec<i32> = indices.iter().map(|&i| data.1[i]).collect();
    let n = indices.len() as i32;
    (
        TinyInputs {
            x: Array::from_slice(&x, &[n, 8]),
        },
        Array::from_slice(&y, &[n]),
    )
}

/// A run in progress: its parameters, trainer and place in the data.
pub struct Run {
    pub params: TinyParams,
    pub trainer: Trainer<Tiny, Adam>,
    pub progress: Progress,
}

fn backend(graph_mode: bool, seed: u64) -> MlxBackend {
    MlxBackend::builder()
        .device(Device::Cpu)
        .seed(seed)
        .graph_mode(graph_mode)
        .build()
        .expect("backend")
}

fn trainer(backend: &MlxBackend) -> Trainer<Tiny, Adam> {
    let objective = Objective::new("logits", Loss::cross_entropy());
    Trainer::new(backend, &objective, Adam::new(LR)).expect("trainer")
}

impl Run {
    /// A fresh run from `seed` (parameters, dropout and data order).
    pub fn new(graph_mode: bool, seed: u64) -> Run {
        let backend = backend(graph_mode, seed);
        Run {
            params: Tiny::init(&backend).expect("init"),
            trainer: trainer(&backend),
            progress: Progress {
                data_seed: seed,
                ..Progress::default()
            },
        }
    }

    /// The run saved in `path`, continued by a fresh process or trainer.
    /// The fresh parameters come from another seed, so nothing but the
    /// checkpoint can make the result match.
    pub fn resume(graph_mode: bool, path: &Path) -> mithril::Result<Run> {
        let checkpoint = Checkpoint::load(path)?;
        let backend = backend(graph_mode, 999);
        let mut params = Tiny::init(&backend)?;
        let mut trainer = trainer(&backend);
        let progress = trainer.restore(&checkpoint, &mut params)?;
        Ok(Run {
            params,
            trainer,
            progress,
        })
    }

    /// The running sum of the losses, kept exactly (its bits) in the progress.
    pub fn loss_sum(&self) -> f64 {
        self.progress
            .get("loss_sum")
            .and_then(|bits| u64::from_str_radix(bits, 16).ok())
            .map_or(0.0, f64::from_bits)
    }

    /// Trains to the end of the last epoch, saving a checkpoint to `path`
    /// after every `every` steps, and calling `stop` after each step: when
    /// it says so, returns `Ok(false)` there; `Ok(true)` at the end.
    pub fn train(
        &mut self,
        every: u64,
        path: &Path,
        mut stop: impl FnMut(&Run) -> bool,
    ) -> mithril::Result<bool> {
        let data = data();
        while self.progress.epoch < EPOCHS {
            let order = order(self.progress.data_seed, self.progress.epoch);
            let batches: Vec<&[usize]> = order.chunks(BATCH).collect();
            while let Some(indices) = batches.get(self.progress.batch as usize) {
                let (inputs, labels) = batch(&data, indices);
                let step = self.trainer.step(&mut self.params, &inputs, &labels)?;
                let sum = self.loss_sum() + f64::from(step.loss.item_exact::<f32>());
                self.progress.batch += 1;
                self.progress
                    .extra
                    .insert("loss_sum".into(), format!("{:016x}", sum.to_bits()));
                if self.trainer.steps().is_multiple_of(every) {
                    self.trainer
                        .save_checkpoint(path, &self.params, &self.progress)?;
                }
                if stop(self) {
                    return Ok(false);
                }
            }
            self.progress.epoch += 1;
            self.progress.batch = 0;
        }
        Ok(true)
    }
}

/// A file's metadata and each tensor's bytes, as written.
pub type Contents = (BTreeMap<String, String>, BTreeMap<String, Vec<u8>>);

/// What a safetensors file holds: compared whole, two runs agree bit for bit.
pub fn contents(path: &Path) -> Contents {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = metadata
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let tensors = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect();
    (meta, tensors)
}

//! MNIST for the examples: the `--data DIR` flag (the repository's copy by
//! default), digits as a model's inputs, and test accuracy.

use std::path::{Path, PathBuf};

use mithril::prelude::*;
use mithril::{CompiledModel, Model, Values};
use mithril_datasets::{Mnist, MnistDir};

use super::Error;
use super::flags::{Defaults, Training, at_least_one};
use super::order;

/// Digits per evaluation batch: on a 2-core CPU, batches of 64-250 evaluate
/// a convolutional network about twice as fast as batches of 1,000, whose
/// activations no longer fit in cache.
pub const EVAL_BATCH: usize = 250;

/// `data/mnist` of this repository: the official test digits and 10,000
/// training digits.
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("mnist")
}

/// Where the digits are.
#[derive(clap::Args, Clone, Debug)]
pub struct DataFlag {
    /// Directory with the MNIST files: the standard train-images-idx3-ubyte,
    /// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
    /// t10k-labels-idx1-ubyte (60,000 training digits; each .gz or not), or
    /// the repository's train-10k-* subset [default: the repository's
    /// data/mnist]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

impl DataFlag {
    /// The directory to read.
    pub fn dir(&self) -> PathBuf {
        self.data.clone().unwrap_or_else(repo_dir)
    }

    /// The training and test digits of [`Self::dir`], after a line saying
    /// which files were found.
    pub fn load(&self) -> Result<MnistDir, Error> {
        let mnist = self.read()?;
        println!("{mnist}");
        Ok(mnist)
    }

    /// [`Self::load`] without the line (its `Display` is that line).
    pub fn read(&self) -> Result<MnistDir, Error> {
        let dir = self.dir();
        let mnist = MnistDir::load(&dir)?;
        if (
            mnist.train.rows,
            mnist.train.cols,
            mnist.test.rows,
            mnist.test.cols,
        ) != (28, 28, 28, 28)
        {
            return Err(format!("{}: MNIST images must be 28x28", dir.display()).into());
        }
        Ok(mnist)
    }
}

/// The flags of the examples that train on MNIST for some epochs:
/// `--epochs`, [`Training`]'s and `--data`.
#[derive(clap::Args, Clone, Debug)]
pub struct EpochsFlags {
    /// Passes over the training digits
    #[arg(long, value_parser = at_least_one)]
    pub epochs: Option<usize>,
    #[command(flatten)]
    pub train: Training,
    #[command(flatten)]
    pub data: DataFlag,
}

/// The flags of the examples that train on MNIST for some steps:
/// `--steps`, [`Training`]'s and `--data`.
#[derive(clap::Args, Clone, Debug)]
pub struct StepsFlags {
    /// Training steps
    #[arg(long, value_parser = at_least_one)]
    pub steps: Option<usize>,
    #[command(flatten)]
    pub train: Training,
    #[command(flatten)]
    pub data: DataFlag,
}

/// What an MNIST example runs: its epochs or steps, its training flags,
/// and the digits.
pub struct MnistRun {
    /// Epochs or steps, whichever the example counts.
    pub length: usize,
    /// Examples per training step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Seed of the initial parameters and of the data's order.
    pub seed: u64,
    /// Whether this is CI's short run.
    pub quick: bool,
    /// The training digits.
    pub train: Mnist,
    /// The official test digits.
    pub test: Mnist,
}

impl MnistRun {
    /// The run of `length` (or the default) with flags `t` on the digits of
    /// `data` (see [`DataFlag::load`]).
    fn load(
        length: Option<usize>,
        t: Training,
        data: &DataFlag,
        defaults: &Defaults,
    ) -> Result<MnistRun, Error> {
        let MnistDir { train, test, .. } = data.load()?;
        Ok(MnistRun {
            length: defaults.length(length, t.quick),
            batch_size: t.batch_size,
            lr: t.lr,
            seed: t.seed,
            quick: t.quick,
            train,
            test,
        })
    }
}

impl EpochsFlags {
    /// The run these flags ask for: its length is in epochs.
    pub fn load(self, defaults: &Defaults) -> Result<MnistRun, Error> {
        MnistRun::load(self.epochs, self.train, &self.data, defaults)
    }
}

impl StepsFlags {
    /// The run these flags ask for: its length is in steps.
    pub fn load(self, defaults: &Defaults) -> Result<MnistRun, Error> {
        MnistRun::load(self.steps, self.train, &self.data, defaults)
    }
}

/// Digits `indices` of `data` as the inputs of `M` (its one input, of shape
/// `[indices.len(), image...]`, pixels in [0, 1]) and their labels.
pub fn batch<M: Model>(
    data: &Mnist,
    indices: &[usize],
    image: &[i32],
) -> Result<(M::Inputs, Array), Error> {
    batch_as::<M>(data, indices, image, DType::F32)
}

/// [`batch`] with the pixels in `dtype`, as from a half-precision pipeline.
pub fn batch_as<M: Model>(
    data: &Mnist,
    indices: &[usize],
    image: &[i32],
    dtype: DType,
) -> Result<(M::Inputs, Array), Error> {
    let names = <M::Inputs as Values>::NAMES;
    if names.len() != 1 {
        return Err(format!("{} takes inputs {names:?}; digits are one", M::NAME).into());
    }
    let n = indices.len() as i32;
    let shape: Vec<i32> = std::iter::once(n).chain(image.iter().copied()).collect();
    let mut pixels = Array::from_slice(&data.batch_pixels(indices), &shape);
    if dtype != DType::F32 {
        pixels = pixels.as_dtype(dtype.mlx())?;
    }
    let inputs = M::Inputs::from_arrays(vec![pixels]).ok_or("one input array")?;
    Ok((inputs, Array::from_slice(&data.batch_labels(indices), &[n])))
}

/// Fraction of the first `n` digits of `data` that `model` classifies
/// correctly by its output `logits`, in batches of [`EVAL_BATCH`].
pub fn accuracy<M: Model>(
    model: &mut CompiledModel<M>,
    params: &M::Params,
    data: &Mnist,
    n: usize,
    image: &[i32],
) -> Result<f64, Error> {
    accuracy_as(model, params, data, n, image, DType::F32)
}

/// [`accuracy`] with the pixels in `dtype`.
pub fn accuracy_as<M: Model>(
    model: &mut CompiledModel<M>,
    params: &M::Params,
    data: &Mnist,
    n: usize,
    image: &[i32],
    dtype: DType,
) -> Result<f64, Error> {
    let names = <M::Outputs as Values>::NAMES;
    let logits = names
        .iter()
        .position(|&name| name == "logits")
        .ok_or_else(|| format!("{} has no output `logits` (it has {names:?})", M::NAME))?;
    let (mut correct, mut total) = (0.0f64, 0usize);
    for chunk in order::first(n.min(data.len())).chunks(EVAL_BATCH) {
        let (inputs, labels) = batch_as::<M>(data, chunk, image, dtype)?;
        let outputs = model.evaluate(params, &inputs)?;
        let acc = mithril::train::accuracy(outputs.arrays()[logits], &labels)?;
        correct += (f64::from(acc) * chunk.len() as f64).round();
        total += chunk.len();
    }
    Ok(correct / total.max(1) as f64)
}

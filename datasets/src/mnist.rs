//! MNIST digits: images and labels of one split, read from IDX files.
//!
//! A directory may hold the standard distribution (LeCun et al.'s
//! `train-images-idx3-ubyte.gz` and the three others: 60,000 training and
//! 10,000 test digits), gzip-compressed or not, or Mithril's repository copy
//! (`data/mnist/`: the official test files and `train-10k-*`, 10,000
//! training digits).
//!
//! ```
//! use mithril_datasets::{MnistDir, TrainingSet};
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/mnist");
//! let mnist = MnistDir::load(dir)?;
//! assert_eq!(mnist.training_set, TrainingSet::Subset10k);
//! assert_eq!((mnist.train.len(), mnist.test.len()), (10_000, 10_000));
//! assert_eq!(mnist.train.image(0).len(), 28 * 28);
//! # Ok::<(), mithril_datasets::MnistError>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::MnistError;
use crate::idx::{IMAGES_MAGIC, Idx, LABELS_MAGIC};

/// Images and labels of one MNIST split.
#[derive(Clone, Debug)]
pub struct Mnist {
    /// Pixels, row-major, `len * rows * cols` bytes in 0..=255.
    pub images: Vec<u8>,
    /// Digits 0..=9.
    pub labels: Vec<u8>,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

/// File names of the standard distribution's training split.
const FULL_TRAIN: [&str; 2] = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"];
/// File names of the repository's 10,000-digit training subset.
const SUBSET_TRAIN: [&str; 2] = ["train-10k-images-idx3-ubyte", "train-10k-labels-idx1-ubyte"];
/// File names of the official test split.
const TEST: [&str; 2] = ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

impl Mnist {
    /// Reads an images file and a labels file (IDX; through gzip when the
    /// name ends in `.gz`). Errors name the file and the byte offset in its
    /// (decompressed) data.
    pub fn load(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Mnist, MnistError> {
        let (images_path, labels_path) = (images.as_ref(), labels.as_ref());
        let images = Idx::read(images_path, IMAGES_MAGIC, "images", 3, |s| {
            match (s[1], s[2]) {
                (0, _) | (_, 0) => Err(MnistError::BadHeader {
                    path: images_path.to_path_buf(),
                    offset: 8,
                    reason: format!("images of {}x{} pixels", s[1], s[2]),
                }),
                _ => Ok(()),
            }
        })?;
        let n = images.sizes[0];
        let labels = Idx::read(labels_path, LABELS_MAGIC, "labels", 1, |s| match s[0] {
            m if m == n => Ok(()),
            m => Err(MnistError::CountMismatch {
                images_path: images_path.to_path_buf(),
                images: n,
                labels_path: labels_path.to_path_buf(),
                labels: m,
            }),
        })?
        .data;
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
            return Err(MnistError::BadLabel {
                path: labels_path.to_path_buf(),
                offset: 8 + index,
                index,
                label,
            });
        }
        Ok(Mnist {
            images: images.data,
            labels,
            rows: images.sizes[1],
            cols: images.sizes[2],
        })
    }

    /// The official 10,000 test digits in `dir` (`t10k-*-ubyte[.gz]`).
    pub fn load_test(dir: impl AsRef<Path>) -> Result<Mnist, MnistError> {
        load_split(dir.as_ref(), "test", &TEST)
    }

    /// The standard distribution's 60,000 training digits in `dir`
    /// (`train-*-ubyte[.gz]`).
    pub fn load_train(dir: impl AsRef<Path>) -> Result<Mnist, MnistError> {
        load_split(dir.as_ref(), "training", &FULL_TRAIN)
    }

    /// The repository's 10,000 training digits in `dir`
    /// (`train-10k-*-ubyte[.gz]`).
    pub fn load_train_10k(dir: impl AsRef<Path>) -> Result<Mnist, MnistError> {
        load_split(dir.as_ref(), "training", &SUBSET_TRAIN)
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of digit `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let size = self.rows * self.cols;
        &self.images[i * size..(i + 1) * size]
    }

    /// Pixels of digits `indices`, scaled to [0, 1], as `indices.len() * rows * cols` floats.
    pub fn batch_pixels(&self, indices: &[usize]) -> Vec<f32> {
        indices
            .iter()
            .flat_map(|&i| self.image(i).iter().map(|&p| f32::from(p) / 255.0))
            .collect()
    }

    /// Labels of digits `indices`.
    pub fn batch_labels(&self, indices: &[usize]) -> Vec<i32> {
        indices.iter().map(|&i| i32::from(self.labels[i])).collect()
    }
}

/// `name.gz` or `name` in `dir`, whichever exists (the compressed first).
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    [format!("{name}.gz"), name.to_string()]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// The split whose images and labels files are `names` in `dir`.
fn load_split(dir: &Path, split: &'static str, names: &[&str; 2]) -> Result<Mnist, MnistError> {
    let [images, labels] = [(names[0], "images"), (names[1], "labels")].map(|(name, kind)| {
        find(dir, name).ok_or_else(|| MnistError::NotFound {
            dir: dir.to_path_buf(),
            what: match (split, kind) {
                ("test", "images") => "test images",
                ("test", _) => "test labels",
                (_, "images") => "training images",
                _ => "training labels",
            },
            expected: vec![format!("{name}.gz"), name.to_string()],
        })
    });
    Mnist::load(images?, labels?)
}

/// Which training digits a directory holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainingSet {
    /// The standard distribution's `train-*-ubyte[.gz]`: 60,000 digits.
    Full,
    /// The repository's `train-10k-*-ubyte[.gz]`: 10,000 digits.
    Subset10k,
}

impl fmt::Display for TrainingSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrainingSet::Full => "the standard MNIST files (train-*-ubyte)",
            TrainingSet::Subset10k => "the 10,000-digit training subset (train-10k-*-ubyte)",
        })
    }
}

/// A directory's training and test digits.
#[derive(Clone, Debug)]
pub struct MnistDir {
    /// The directory read.
    pub dir: PathBuf,
    /// Which training files it held.
    pub training_set: TrainingSet,
    /// The training digits.
    pub train: Mnist,
    /// The official test digits.
    pub test: Mnist,
}

impl MnistDir {
    /// The training and test digits in `dir`: the standard distribution's
    /// training files where they are there, else the 10,000-digit subset;
    /// the official test files. Each file may be gzip-compressed (`.gz`)
    /// or not.
    pub fn load(dir: impl AsRef<Path>) -> Result<MnistDir, MnistError> {
        let dir = dir.as_ref();
        let (training_set, train) = match find(dir, FULL_TRAIN[0]) {
            Some(_) => (TrainingSet::Full, Mnist::load_train(dir)?),
            None => match find(dir, SUBSET_TRAIN[0]) {
                Some(_) => (TrainingSet::Subset10k, Mnist::load_train_10k(dir)?),
                None => {
                    return Err(MnistError::NotFound {
                        dir: dir.to_path_buf(),
                        what: "training images",
                        expected: [FULL_TRAIN[0], SUBSET_TRAIN[0]]
                            .iter()
                            .flat_map(|n| [format!("{n}.gz"), n.to_string()])
                            .collect(),
                    });
                }
            },
        };
        Ok(MnistDir {
            dir: dir.to_path_buf(),
            training_set,
            train,
            test: Mnist::load_test(dir)?,
        })
    }
}

impl fmt::Display for MnistDir {
    /// One line: where the digits came from and how many there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MNIST from {}: {}, {} training and {} test digits",
            self.dir.display(),
            self.training_set,
            self.train.len(),
            self.test.len()
        )
    }
}

//! MNIST in the IDX format (gzip-compressed), as distributed by LeCun et al.
//!
//! The repository ships 10,000 training and the 10,000 official test digits
//! under `data/mnist/` (see its README for provenance).
//!
//! ```
//! let train = mithril::data::mnist::Mnist::load_train_10k(mithril::data::mnist::repo_dir())?;
//! assert_eq!(train.len(), 10_000);
//! assert_eq!(train.image(0).len(), 28 * 28);
//! # Ok::<(), mithril::data::mnist::MnistError>(())
//! ```

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Why an MNIST file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MnistError {
    /// The file could not be opened or decompressed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The header's magic number is not the IDX one for this kind of file.
    #[error("{path}: bad magic number {found:#010x}, expected {expected:#010x} ({kind} file)")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// What was expected.
        expected: u32,
        /// What was found.
        found: u32,
        /// `images` or `labels`.
        kind: &'static str,
    },
    /// The file ends before the header says it should.
    #[error("{path}: truncated: header promises {expected} bytes, found {found}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header promises (header included).
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The image and label files hold different numbers of items.
    #[error("{images} images but {labels} labels")]
    CountMismatch {
        /// Images in the image file.
        images: usize,
        /// Labels in the label file.
        labels: usize,
    },
    /// A label outside 0..=9.
    #[error("{path}: label {label} at index {index} is not a digit")]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// Where.
        index: usize,
        /// The value.
        label: u8,
    },
}

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

/// `data/mnist` of this repository.
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("mnist")
}

fn read_gz(path: &Path) -> Result<Vec<u8>, MnistError> {
    let io = |source| MnistError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    GzDecoder::new(File::open(path).map_err(io)?)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}

fn header(bytes: &[u8], path: &Path, words: usize) -> Result<Vec<u32>, MnistError> {
    if bytes.len() < 4 * words {
        return Err(MnistError::Truncated {
            path: path.to_path_buf(),
            expected: 4 * words,
            found: bytes.len(),
        });
    }
    Ok(bytes[..4 * words]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn check_magic(
    path: &Path,
    found: u32,
    expected: u32,
    kind: &'static str,
) -> Result<(), MnistError> {
    if found == expected {
        Ok(())
    } else {
        Err(MnistError::BadMagic {
            path: path.to_path_buf(),
            expected,
            found,
            kind,
        })
    }
}

impl Mnist {
    /// Reads an images file and a labels file (both gzip-compressed IDX).
    pub fn load(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Mnist, MnistError> {
        let (images_path, labels_path) = (images.as_ref(), labels.as_ref());
        let image_bytes = read_gz(images_path)?;
        let h = header(&image_bytes, images_path, 4)?;
        check_magic(images_path, h[0], IMAGES_MAGIC, "images")?;
        let (n, rows, cols) = (h[1] as usize, h[2] as usize, h[3] as usize);
        let expected = 16 + n * rows * cols;
        if image_bytes.len() < expected {
            return Err(MnistError::Truncated {
                path: images_path.to_path_buf(),
                expected,
                found: image_bytes.len(),
            });
        }

        let label_bytes = read_gz(labels_path)?;
        let h = header(&label_bytes, labels_path, 2)?;
        check_magic(labels_path, h[0], LABELS_MAGIC, "labels")?;
        let m = h[1] as usize;
        if label_bytes.len() < 8 + m {
            return Err(MnistError::Truncated {
                path: labels_path.to_path_buf(),
                expected: 8 + m,
                found: label_bytes.len(),
            });
        }
        if m != n {
            return Err(MnistError::CountMismatch {
                images: n,
                labels: m,
            });
        }
        let labels = label_bytes[8..8 + m].to_vec();
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
            return Err(MnistError::BadLabel {
                path: labels_path.to_path_buf(),
                index,
                label,
            });
        }
        Ok(Mnist {
            images: image_bytes[16..expected].to_vec(),
            labels,
            rows,
            cols,
        })
    }

    /// The 10,000 training digits shipped in `dir` (`train-10k-*.gz`).
    pub fn load_train_10k(dir: impl AsRef<Path>) -> Result<Mnist, MnistError> {
        let dir = dir.as_ref();
        Mnist::load(
            dir.join("train-10k-images-idx3-ubyte.gz"),
            dir.join("train-10k-labels-idx1-ubyte.gz"),
        )
    }

    /// The 10,000 official test digits shipped in `dir` (`t10k-*.gz`).
    pub fn load_test(dir: impl AsRef<Path>) -> Result<Mnist, MnistError> {
        let dir = dir.as_ref();
        Mnist::load(
            dir.join("t10k-images-idx3-ubyte.gz"),
            dir.join("t10k-labels-idx1-ubyte.gz"),
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn write_gz(path: &Path, bytes: &[u8]) {
        let mut e = GzEncoder::new(File::create(path).unwrap(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap();
    }

    fn idx_images(n: u32, rows: u32, cols: u32, pixels: usize) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [IMAGES_MAGIC, n, rows, cols] {
            b.extend(w.to_be_bytes());
        }
        b.extend(std::iter::repeat_n(7u8, pixels));
        b
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [LABELS_MAGIC, labels.len() as u32] {
            b.extend(w.to_be_bytes());
        }
        b.extend(labels);
        b
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mithril-mnist-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_the_committed_digits() {
        let train = Mnist::load_train_10k(repo_dir()).unwrap();
        let test = Mnist::load_test(repo_dir()).unwrap();
        assert_eq!(
            (train.len(), test.len(), train.rows, train.cols),
            (10_000, 10_000, 28, 28)
        );
        // The official test set starts with a 7, a 2 and a 1.
        assert_eq!(&test.labels[..3], &[7, 2, 1]);
    }

    #[test]
    fn reports_bad_magic_truncation_and_count_mismatch() {
        let d = dir("errors");
        let (imgs, lbls) = (d.join("i.gz"), d.join("l.gz"));

        write_gz(&imgs, &idx_images(2, 2, 2, 8));
        write_gz(&lbls, &idx_images(2, 2, 2, 8));
        assert!(matches!(
            Mnist::load(&imgs, &lbls),
            Err(MnistError::BadMagic { kind: "labels", .. })
        ));

        write_gz(&imgs, &idx_images(3, 2, 2, 8));
        write_gz(&lbls, &idx_labels(&[1, 2, 3]));
        let err = Mnist::load(&imgs, &lbls).unwrap_err();
        assert!(
            matches!(
                err,
                MnistError::Truncated {
                    expected: 28,
                    found: 24,
                    ..
                }
            ),
            "{err}"
        );

        write_gz(&imgs, &idx_images(2, 2, 2, 8));
        write_gz(&lbls, &idx_labels(&[1, 2, 3]));
        assert!(matches!(
            Mnist::load(&imgs, &lbls),
            Err(MnistError::CountMismatch {
                images: 2,
                labels: 3
            })
        ));

        write_gz(&lbls, &idx_labels(&[1, 12]));
        assert!(matches!(
            Mnist::load(&imgs, &lbls),
            Err(MnistError::BadLabel {
                index: 1,
                label: 12,
                ..
            })
        ));

        std::fs::write(&imgs, b"not gzip").unwrap();
        assert!(matches!(
            Mnist::load(&imgs, &lbls),
            Err(MnistError::Io { .. })
        ));

        write_gz(&lbls, &idx_labels(&[1, 2]));
        write_gz(&imgs, &idx_images(2, 2, 2, 8));
        let ok = Mnist::load(&imgs, &lbls).unwrap();
        assert_eq!(ok.batch_pixels(&[1]), vec![7.0 / 255.0; 4]);
        std::fs::remove_dir_all(d).ok();
    }
}

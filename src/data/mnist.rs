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
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// Why an MNIST file could not be read. Offsets count bytes of the
/// decompressed IDX data, from its start: the header is bytes 0..16 of an
/// images file and 0..8 of a labels file.
#[derive(Debug, thiserror::Error)]
pub enum MnistError {
    /// The file could not be opened.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The gzip stream is corrupt or cut short.
    #[error("{path}: bad gzip data after byte {offset} of the decompressed stream: {source}")]
    Gzip {
        /// The file.
        path: PathBuf,
        /// Decompressed bytes read before the failure.
        offset: usize,
        /// The decoder's complaint.
        source: std::io::Error,
    },
    /// The header's magic number is not the IDX one for this kind of file.
    #[error(
        "{path}: at byte 0: magic number {found:#010x}, expected {expected:#010x} ({kind} file)"
    )]
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
    /// Sizes in the header that describe no data this reader can hold.
    #[error("{path}: at byte {offset}: {reason}")]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// Where the offending size starts.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// The data ends before the header says it should.
    #[error("{path}: truncated at byte {offset}: the header promises {expected} bytes")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Where the data ends.
        offset: usize,
        /// Bytes the header promises (header included).
        expected: usize,
    },
    /// The data goes on after the end the header gives.
    #[error("{path}: unexpected data at byte {offset}, where the header says the file ends")]
    TrailingData {
        /// The file.
        path: PathBuf,
        /// Where the data should have ended.
        offset: usize,
    },
    /// The image and label files hold different numbers of items.
    #[error(
        "{images_path} holds {images} images but {labels_path} holds {labels} labels (at byte 4 of each)"
    )]
    CountMismatch {
        /// The images file.
        images_path: PathBuf,
        /// Images in it.
        images: usize,
        /// The labels file.
        labels_path: PathBuf,
        /// Labels in it.
        labels: usize,
    },
    /// A label outside 0..=9.
    #[error("{path}: at byte {offset}: label {label} (item {index}) is not a digit")]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// Where it is.
        offset: usize,
        /// Which item.
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

/// One gzip-compressed IDX file being read: the decompressed stream and
/// how far into it we are, for errors.
struct Idx<'a> {
    path: &'a Path,
    stream: GzDecoder<BufReader<File>>,
    offset: usize,
}

impl<'a> Idx<'a> {
    fn open(path: &'a Path) -> Result<Idx<'a>, MnistError> {
        let file = File::open(path).map_err(|source| MnistError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Idx {
            path,
            stream: GzDecoder::new(BufReader::new(file)),
            offset: 0,
        })
    }

    /// The next `len` bytes, read as they come (never allocated ahead from
    /// a length the file gives), or an error saying where they stop.
    fn take(&mut self, len: usize, expected_total: usize) -> Result<Vec<u8>, MnistError> {
        let mut bytes = Vec::new();
        let read = (&mut self.stream).take(len as u64).read_to_end(&mut bytes);
        self.offset += bytes.len();
        if let Err(source) = read {
            return Err(MnistError::Gzip {
                path: self.path.to_path_buf(),
                offset: self.offset,
                source,
            });
        }
        if bytes.len() < len {
            return Err(MnistError::Truncated {
                path: self.path.to_path_buf(),
                offset: self.offset,
                expected: expected_total,
            });
        }
        Ok(bytes)
    }

    /// The magic number and `dims` sizes of the header (big-endian words).
    fn header(
        &mut self,
        magic: u32,
        kind: &'static str,
        dims: usize,
    ) -> Result<Vec<usize>, MnistError> {
        let len = 4 * (1 + dims);
        let words: Vec<u32> = self
            .take(len, len)?
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if words[0] != magic {
            return Err(MnistError::BadMagic {
                path: self.path.to_path_buf(),
                expected: magic,
                found: words[0],
                kind,
            });
        }
        Ok(words[1..].iter().map(|&w| w as usize).collect())
    }

    /// The data after a header of `sizes` (item count first), checked to
    /// end exactly where the header says.
    fn data(&mut self, sizes: &[usize]) -> Result<Vec<u8>, MnistError> {
        let header = self.offset;
        let total = sizes
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .and_then(|n| n.checked_add(header))
            .ok_or_else(|| MnistError::BadHeader {
                path: self.path.to_path_buf(),
                offset: 4,
                reason: format!(
                    "sizes {sizes:?} describe more bytes than this machine can address"
                ),
            })?;
        let data = self.take(total - header, total)?;
        let mut next = [0u8; 1];
        match self.stream.read(&mut next) {
            Ok(0) => Ok(data),
            Ok(_) => Err(MnistError::TrailingData {
                path: self.path.to_path_buf(),
                offset: self.offset,
            }),
            Err(source) => Err(MnistError::Gzip {
                path: self.path.to_path_buf(),
                offset: self.offset,
                source,
            }),
        }
    }
}

impl Mnist {
    /// Reads an images file and a labels file (both gzip-compressed IDX).
    /// Errors name the file and the byte offset in its decompressed data.
    pub fn load(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Mnist, MnistError> {
        let (images_path, labels_path) = (images.as_ref(), labels.as_ref());
        let mut file = Idx::open(images_path)?;
        let sizes = file.header(IMAGES_MAGIC, "images", 3)?;
        let (n, rows, cols) = (sizes[0], sizes[1], sizes[2]);
        if rows == 0 || cols == 0 {
            return Err(MnistError::BadHeader {
                path: images_path.to_path_buf(),
                offset: 8,
                reason: format!("images of {rows}x{cols} pixels"),
            });
        }
        let images = file.data(&sizes)?;

        let mut file = Idx::open(labels_path)?;
        let m = file.header(LABELS_MAGIC, "labels", 1)?[0];
        if m != n {
            return Err(MnistError::CountMismatch {
                images_path: images_path.to_path_buf(),
                images: n,
                labels_path: labels_path.to_path_buf(),
                labels: m,
            });
        }
        let labels = file.data(&[m])?;
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
            return Err(MnistError::BadLabel {
                path: labels_path.to_path_buf(),
                offset: 8 + index,
                index,
                label,
            });
        }
        Ok(Mnist {
            images,
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
                    offset: 24,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{}: truncated at byte 24: the header promises 28 bytes",
                imgs.display()
            )
        );

        write_gz(&imgs, &idx_images(2, 2, 2, 8));
        write_gz(&lbls, &idx_labels(&[1, 2, 3]));
        assert!(matches!(
            Mnist::load(&imgs, &lbls),
            Err(MnistError::CountMismatch {
                images: 2,
                labels: 3,
                ..
            })
        ));

        write_gz(&lbls, &idx_labels(&[1, 12]));
        assert!(matches!(
            Mnist::load(&imgs, &lbls),
            Err(MnistError::BadLabel {
                index: 1,
                offset: 9,
                label: 12,
                ..
            })
        ));

        std::fs::write(&imgs, b"not gzip").unwrap();
        assert!(matches!(
            Mnist::load(&imgs, &lbls),
            Err(MnistError::Gzip { offset: 0, .. })
        ));
        assert!(matches!(
            Mnist::load(d.join("absent.gz"), &lbls),
            Err(MnistError::Io { .. })
        ));

        write_gz(&lbls, &idx_labels(&[1, 2]));
        write_gz(&imgs, &idx_images(2, 2, 2, 8));
        let ok = Mnist::load(&imgs, &lbls).unwrap();
        assert_eq!(ok.batch_pixels(&[1]), vec![7.0 / 255.0; 4]);
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn every_truncation_names_the_file_and_the_offset() {
        let d = dir("truncations");
        let (imgs, lbls) = (d.join("i.gz"), d.join("l.gz"));
        write_gz(&lbls, &idx_labels(&[1, 2]));
        let whole = idx_images(2, 3, 3, 18);
        for cut in 0..whole.len() {
            write_gz(&imgs, &whole[..cut]);
            let err = Mnist::load(&imgs, &lbls).unwrap_err();
            let expected = if cut < 16 { 16 } else { 34 };
            assert!(
                matches!(err, MnistError::Truncated { offset, expected: e, ref path } if offset == cut && e == expected && *path == imgs),
                "cut at {cut}: {err}"
            );
            assert!(
                err.to_string()
                    .contains(&format!("truncated at byte {cut}")),
                "{err}"
            );
        }
        write_gz(&imgs, &whole);
        assert_eq!(Mnist::load(&imgs, &lbls).unwrap().len(), 2);

        // The compressed stream itself cut short: where decompression stopped.
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&whole).unwrap();
        let gz = gz.finish().unwrap();
        for cut in [1, 10, gz.len() / 2, gz.len() - 4] {
            std::fs::write(&imgs, &gz[..cut]).unwrap();
            let err = Mnist::load(&imgs, &lbls).unwrap_err();
            let named = err.to_string().starts_with(&imgs.display().to_string());
            assert!(
                named && matches!(err, MnistError::Gzip { .. } | MnistError::Truncated { .. }),
                "gzip cut at {cut}: {err}"
            );
        }
        std::fs::remove_dir_all(d).ok();
    }

    #[test]
    fn headers_that_lie_about_sizes_are_errors_at_their_offset() {
        let d = dir("headers");
        let (imgs, lbls) = (d.join("i.gz"), d.join("l.gz"));
        write_gz(&lbls, &idx_labels(&[1, 2]));

        // More data than the header promises.
        let mut long = idx_images(2, 3, 3, 18);
        long.push(0);
        write_gz(&imgs, &long);
        let err = Mnist::load(&imgs, &lbls).unwrap_err();
        assert!(
            matches!(err, MnistError::TrailingData { offset: 34, .. }),
            "{err}"
        );

        // Sizes whose product overflows, and a claim of 4 billion images
        // with 18 bytes behind it: errors, nothing allocated ahead.
        write_gz(&imgs, &idx_images(u32::MAX, u32::MAX, u32::MAX, 18));
        let err = Mnist::load(&imgs, &lbls).unwrap_err();
        assert!(
            matches!(err, MnistError::BadHeader { offset: 4, .. }),
            "{err}"
        );
        write_gz(&imgs, &idx_images(u32::MAX, 28, 28, 18));
        let err = Mnist::load(&imgs, &lbls).unwrap_err();
        assert!(
            matches!(err, MnistError::Truncated { offset: 34, .. }),
            "{err}"
        );
        write_gz(&imgs, &idx_images(2, 0, 28, 0));
        let err = Mnist::load(&imgs, &lbls).unwrap_err();
        assert!(
            matches!(err, MnistError::BadHeader { offset: 8, .. }),
            "{err}"
        );

        // A label file that is an image file.
        write_gz(&imgs, &idx_images(2, 3, 3, 18));
        write_gz(&lbls, &idx_images(2, 3, 3, 18));
        let err = Mnist::load(&imgs, &lbls).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: at byte 0: magic number 0x00000803, expected 0x00000801 (labels file)",
                lbls.display()
            )
        );
        std::fs::remove_dir_all(d).ok();
    }
}

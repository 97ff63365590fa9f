//! Why an MNIST file could not be read.

use std::path::PathBuf;

/// Why an MNIST file could not be read. Offsets count bytes of the IDX data
/// (decompressed, for a `.gz` file) from its start: the header is bytes
/// 0..16 of an images file and 0..8 of a labels file.
#[derive(Debug, thiserror::Error)]
pub enum MnistError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A directory holds none of the file names that could hold a split.
    #[error("{dir}: no MNIST {what} there; expected {}", expected.join(" or "))]
    NotFound {
        /// The directory.
        dir: PathBuf,
        /// `training images`, `test labels`, ...
        what: &'static str,
        /// The file names looked for, in order of preference.
        expected: Vec<String>,
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

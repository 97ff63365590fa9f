//! The IDX format of LeCun et al.'s MNIST files: a big-endian header (a magic
//! number, then one 32-bit size per dimension), then the items' bytes. A
//! file whose name ends in `.gz` is read through gzip; any other as it is.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use flate2::read::GzDecoder;

use crate::MnistError;

/// Magic number of an images file: unsigned bytes, three dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of a labels file: unsigned bytes, one dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// One IDX file as read: its sizes (item count first) and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    /// The header's sizes, item count first.
    pub sizes: Vec<usize>,
    /// The data after the header, exactly as many bytes as the sizes say.
    pub data: Vec<u8>,
}

impl Idx {
    /// Reads `path`, whose header must carry `magic` and `dims` sizes;
    /// `check` may refuse the sizes before the data is read. `kind` names
    /// the file's role in errors.
    pub fn read(
        path: &Path,
        magic: u32,
        kind: &'static str,
        dims: usize,
        check: impl FnOnce(&[usize]) -> Result<(), MnistError>,
    ) -> Result<Idx, MnistError> {
        let mut reader = Reader::open(path)?;
        let sizes = reader.header(magic, kind, dims)?;
        check(&sizes)?;
        let data = reader.data(&sizes)?;
        Ok(Idx { sizes, data })
    }
}

/// One IDX file being read: the (decompressed) stream and how far into it
/// we are, for errors.
struct Reader<'a> {
    path: &'a Path,
    stream: Box<dyn Read>,
    gzip: bool,
    offset: usize,
}

impl<'a> Reader<'a> {
    fn open(path: &'a Path) -> Result<Reader<'a>, MnistError> {
        let file = BufReader::new(File::open(path).map_err(|source| MnistError::Io {
            path: path.to_path_buf(),
            source,
        })?);
        let gzip = path.extension().is_some_and(|e| e == "gz");
        let stream: Box<dyn Read> = match gzip {
            true => Box::new(GzDecoder::new(file)),
            false => Box::new(file),
        };
        Ok(Reader {
            path,
            stream,
            gzip,
            offset: 0,
        })
    }

    /// The error for a failed read `offset` bytes in.
    fn failed(&self, source: std::io::Error) -> MnistError {
        let path = self.path.to_path_buf();
        match self.gzip {
            true => MnistError::Gzip {
                path,
                offset: self.offset,
                source,
            },
            false => MnistError::Io { path, source },
        }
    }

    /// The next `len` bytes, read as they come (never allocated ahead from
    /// a length the file gives), or an error saying where they stop.
    fn take(&mut self, len: usize, expected_total: usize) -> Result<Vec<u8>, MnistError> {
        let mut bytes = Vec::new();
        let read = (&mut self.stream).take(len as u64).read_to_end(&mut bytes);
        self.offset += bytes.len();
        if let Err(source) = read {
            return Err(self.failed(source));
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
            Err(source) => Err(self.failed(source)),
        }
    }
}

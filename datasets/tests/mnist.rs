//! The MNIST reader on small IDX files written here (gzip-compressed and
//! not, under the standard names), on every way a file can be cut short or
//! lie in its header, and on the repository's copy.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use mithril_datasets::idx::{IMAGES_MAGIC, LABELS_MAGIC};
use mithril_datasets::{Mnist, MnistDir, MnistError, TrainingSet};

fn write_gz(path: &Path, bytes: &[u8]) {
    let mut e = GzEncoder::new(File::create(path).unwrap(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap();
}

/// An images file of `n` `rows` x `cols` images whose header says so,
/// followed by `pixels` bytes counting up from 0.
fn idx_images(n: u32, rows: u32, cols: u32, pixels: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for w in [IMAGES_MAGIC, n, rows, cols] {
        b.extend(w.to_be_bytes());
    }
    b.extend((0..pixels).map(|i| i as u8));
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

/// A fresh directory of this test's own.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mithril-mnist-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn reads_the_repository_copy() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/mnist");
    let mnist = MnistDir::load(&repo).unwrap();
    assert_eq!(mnist.training_set, TrainingSet::Subset10k);
    let (train, test) = (&mnist.train, &mnist.test);
    assert_eq!(
        (train.len(), test.len(), train.rows, train.cols),
        (10_000, 10_000, 28, 28)
    );
    // The official test set starts with a 7, a 2 and a 1.
    assert_eq!(&test.labels[..3], &[7, 2, 1]);
    assert!(mnist.to_string().contains("10,000-digit training subset"));
}

#[test]
fn reads_the_standard_files_gzipped_or_not() {
    let d = dir("standard");
    // Three 2x3 images: pixels 0..18, labels 4, 0, 9.
    let (images, labels) = (idx_images(3, 2, 3, 18), idx_labels(&[4, 0, 9]));
    write_gz(&d.join("train-images-idx3-ubyte.gz"), &images);
    write_gz(&d.join("train-labels-idx1-ubyte.gz"), &labels);
    // The test split un-gzipped, two images (its header says 2).
    std::fs::write(d.join("t10k-images-idx3-ubyte"), idx_images(2, 2, 3, 12)).unwrap();
    std::fs::write(d.join("t10k-labels-idx1-ubyte"), idx_labels(&[7, 2])).unwrap();
    // A subset next to the standard files is passed over.
    write_gz(
        &d.join("train-10k-images-idx3-ubyte.gz"),
        &idx_images(1, 2, 3, 6),
    );

    let mnist = MnistDir::load(&d).unwrap();
    assert_eq!(mnist.training_set, TrainingSet::Full);
    let (train, test) = (&mnist.train, &mnist.test);
    assert_eq!((train.len(), train.rows, train.cols), (3, 2, 3));
    assert_eq!(train.image(1), &[6, 7, 8, 9, 10, 11]);
    assert_eq!(train.labels, vec![4, 0, 9]);
    assert_eq!(train.batch_labels(&[2, 0]), vec![9, 4]);
    assert_eq!(train.batch_pixels(&[0])[5], 5.0 / 255.0);
    assert_eq!(
        (test.len(), test.image(1)),
        (2, &[6u8, 7, 8, 9, 10, 11][..])
    );
    assert!(
        mnist.to_string().contains("standard MNIST files"),
        "{mnist}"
    );

    // Without the standard training files, the subset; without either, an
    // error naming the directory and what it looked for.
    std::fs::remove_file(d.join("train-images-idx3-ubyte.gz")).unwrap();
    let err = MnistDir::load(&d).unwrap_err();
    assert!(
        matches!(
            err,
            MnistError::NotFound {
                what: "training labels",
                ..
            }
        ),
        "{err}"
    );
    std::fs::remove_file(d.join("train-10k-images-idx3-ubyte.gz")).unwrap();
    let err = MnistDir::load(&d).unwrap_err();
    assert!(
        matches!(err, MnistError::NotFound { ref expected, .. } if expected.len() == 4),
        "{err}"
    );
    assert!(
        err.to_string().contains("train-images-idx3-ubyte.gz or"),
        "{err}"
    );
    std::fs::remove_dir_all(d).ok();
}

#[test]
fn a_truncated_or_lying_header_is_an_error_not_a_panic() {
    let d = dir("raw-headers");
    let (imgs, lbls) = (d.join("images"), d.join("labels"));
    std::fs::write(&lbls, idx_labels(&[1, 2])).unwrap();
    let whole = idx_images(2, 3, 3, 18);
    // Every cut of an un-gzipped file: where it ends, and what was promised.
    for cut in 0..whole.len() {
        std::fs::write(&imgs, &whole[..cut]).unwrap();
        let err = Mnist::load(&imgs, &lbls).unwrap_err();
        let expected = if cut < 16 { 16 } else { 34 };
        assert!(
            matches!(err, MnistError::Truncated { offset, expected: e, .. } if offset == cut && e == expected),
            "cut at {cut}: {err}"
        );
    }
    // A header claiming 4 billion images with 18 bytes behind it.
    std::fs::write(&imgs, idx_images(u32::MAX, 28, 28, 18)).unwrap();
    let err = Mnist::load(&imgs, &lbls).unwrap_err();
    assert!(
        matches!(err, MnistError::Truncated { offset: 34, .. }),
        "{err}"
    );
    std::fs::write(&imgs, whole).unwrap();
    assert_eq!(Mnist::load(&imgs, &lbls).unwrap().len(), 2);
    std::fs::remove_dir_all(d).ok();
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
    assert_eq!(
        ok.batch_pixels(&[1]),
        vec![4.0 / 255.0, 5.0 / 255.0, 6.0 / 255.0, 7.0 / 255.0]
    );
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

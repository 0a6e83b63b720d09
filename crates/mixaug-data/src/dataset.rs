//! The [`ImageDataset`] trait and an in-memory implementation.

use crate::{DataError, ImageU8, Sample};

/// A labelled image data set with random access.
///
/// `get` returns a `Result` because lazily decoded data sets (image folders) can meet a
/// broken file at any index.
pub trait ImageDataset: Send + Sync {
    /// Number of samples.
    fn len(&self) -> usize;
    /// Whether the data set is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Number of classes; every label is below it.
    fn num_classes(&self) -> usize;
    /// The sample at `index`.
    fn get(&self, index: usize) -> Result<Sample, DataError>;
    /// The label at `index` without decoding the image.
    fn label(&self, index: usize) -> Result<usize, DataError>;
}

/// Images decoded once and held in memory (CIFAR, MNIST: a few hundred MB at most).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InMemoryDataset {
    images: Vec<ImageU8>,
    labels: Vec<usize>,
    num_classes: usize,
}

impl InMemoryDataset {
    /// A data set from images and labels of equal count, all labels `< num_classes`.
    pub fn new(
        images: Vec<ImageU8>,
        labels: Vec<usize>,
        num_classes: usize,
    ) -> Result<Self, DataError> {
        if images.len() != labels.len() {
            return Err(DataError::InvalidOption {
                name: "data set",
                reason: format!("{} images but {} labels", images.len(), labels.len()),
            });
        }
        if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= num_classes) {
            return Err(DataError::LabelOutOfRange {
                path: "(in memory)".into(),
                index,
                label: label as i64,
                num_classes,
            });
        }
        Ok(Self {
            images,
            labels,
            num_classes,
        })
    }

    /// All labels, in order.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// How many samples each class has.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &l in &self.labels {
            counts[l] += 1;
        }
        counts
    }

    /// Appends another data set with the same classes.
    pub fn extend(&mut self, other: InMemoryDataset) -> Result<(), DataError> {
        if other.num_classes != self.num_classes {
            return Err(DataError::InvalidOption {
                name: "data set",
                reason: format!(
                    "cannot join {} classes with {}",
                    other.num_classes, self.num_classes
                ),
            });
        }
        self.images.extend(other.images);
        self.labels.extend(other.labels);
        Ok(())
    }
}

impl ImageDataset for InMemoryDataset {
    fn len(&self) -> usize {
        self.images.len()
    }
    fn num_classes(&self) -> usize {
        self.num_classes
    }
    fn get(&self, index: usize) -> Result<Sample, DataError> {
        let image = self
            .images
            .get(index)
            .ok_or(DataError::IndexOutOfRange {
                index,
                len: self.images.len(),
            })?
            .clone();
        Ok(Sample {
            image,
            label: self.labels[index],
        })
    }
    fn label(&self, index: usize) -> Result<usize, DataError> {
        self.labels
            .get(index)
            .copied()
            .ok_or(DataError::IndexOutOfRange {
                index,
                len: self.labels.len(),
            })
    }
}

//! The run's loaders as burn-train `DataLoader`s. The `Learner` calls a loader's `iter`
//! once per epoch; these count the calls from the run's first epoch, so that each epoch
//! gets the loader's seeded order and augmentation for its index, and each training batch
//! carries its epoch and step — the key of its mixing draws — to the step. A resumed run
//! therefore needs no step counter in its checkpoint.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::prelude::*;
use mixaug_data::{Batch, EpochBatches, Loader};

use super::metrics::EvalSource;

/// A training batch, on the host, and where it stands in the run.
#[derive(Debug, Clone)]
pub struct StepBatch {
    /// The images and labels.
    pub batch: Batch,
    /// The epoch, from 0.
    pub epoch: usize,
    /// The step within the epoch, from 0 (the batch's index in the epoch's order).
    pub step: usize,
}

/// A clean evaluation batch, on the host.
#[derive(Debug, Clone)]
pub struct EvalBatch {
    /// The images and labels.
    pub batch: Batch,
    /// Which set they come from.
    pub source: EvalSource,
    /// The epoch just trained, from 1.
    pub epoch: usize,
}

/// The training split: the batches `batches` (indices within an epoch) of each epoch.
pub(crate) struct TrainBatches {
    loader: Loader,
    batches: Range<usize>,
    next_epoch: Arc<AtomicUsize>,
}

impl TrainBatches {
    /// The first `steps` batches of each epoch, from epoch `first_epoch` (from 0).
    pub(crate) fn new(loader: Loader, steps: usize, first_epoch: usize) -> Self {
        Self {
            loader,
            batches: 0..steps,
            next_epoch: Arc::new(AtomicUsize::new(first_epoch)),
        }
    }
}

impl DataLoader<StepBatch> for TrainBatches {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<StepBatch> + 'a> {
        let epoch = self.next_epoch.fetch_add(1, Ordering::SeqCst);
        let inner = self.loader.epoch_part(epoch as u64, self.batches.clone());
        Box::new(Steps {
            inner,
            epoch,
            next_step: self.batches.start,
            images: 0,
            total: self.num_items(),
        })
    }

    fn num_items(&self) -> usize {
        self.batches.len() * self.loader.batch_size()
    }

    /// The same loader (the batches stay on the host until the step).
    fn to_device(&self, _device: &Device) -> Arc<dyn DataLoader<StepBatch>> {
        Arc::new(Self {
            loader: self.loader.clone(),
            batches: self.batches.clone(),
            next_epoch: self.next_epoch.clone(),
        })
    }

    /// The batches holding items `start..end` of an epoch (a device's share), with their
    /// own epoch count.
    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<StepBatch>> {
        let size = self.loader.batch_size();
        let first = self.batches.start;
        Arc::new(Self {
            loader: self.loader.clone(),
            batches: first + start / size..(first + end / size).min(self.batches.end),
            next_epoch: Arc::new(AtomicUsize::new(self.next_epoch.load(Ordering::SeqCst))),
        })
    }
}

/// One epoch of [`TrainBatches`].
struct Steps {
    inner: EpochBatches,
    epoch: usize,
    next_step: usize,
    images: usize,
    total: usize,
}

impl Iterator for Steps {
    type Item = Result<StepBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = match self.inner.next()? {
            Ok(batch) => batch,
            Err(e) => return Some(Err(DatasetError::new(e))),
        };
        self.images += batch.labels.len();
        let step = self.next_step;
        self.next_step += 1;
        Some(Ok(StepBatch {
            batch,
            epoch: self.epoch,
            step,
        }))
    }
}

impl DataLoaderIterator<StepBatch> for Steps {
    fn progress(&self) -> Progress {
        Progress::new(self.images, self.total, Some("images".into()))
    }
}

/// The validation split: after the epochs that evaluate, every batch of the evaluation
/// loader, then those of the clean training prefix when there is one; nothing after the
/// others.
pub(crate) struct EvalBatches {
    eval: Loader,
    train_prefix: Option<Loader>,
    next_epoch: Arc<AtomicUsize>,
    evaluates: Arc<dyn Fn(usize) -> bool + Send + Sync>,
}

impl EvalBatches {
    /// From epoch `first_epoch` (from 0); `evaluates(epoch)` (from 1) says which epochs
    /// are evaluated.
    pub(crate) fn new(
        eval: Loader,
        train_prefix: Option<Loader>,
        first_epoch: usize,
        evaluates: impl Fn(usize) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self {
            eval,
            train_prefix,
            next_epoch: Arc::new(AtomicUsize::new(first_epoch)),
            evaluates: Arc::new(evaluates),
        }
    }

    /// The same loader, sharing the epoch count.
    fn shared(&self) -> Self {
        Self {
            eval: self.eval.clone(),
            train_prefix: self.train_prefix.clone(),
            next_epoch: self.next_epoch.clone(),
            evaluates: self.evaluates.clone(),
        }
    }

    /// Images of one evaluation (every batch's, short last ones included).
    fn images(&self) -> usize {
        self.eval.num_images() + self.train_prefix.as_ref().map_or(0, Loader::num_images)
    }
}

impl DataLoader<EvalBatch> for EvalBatches {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<EvalBatch> + 'a> {
        let epoch = self.next_epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let mut parts = Vec::new();
        if (self.evaluates)(epoch) {
            parts.push((EvalSource::Eval, self.eval.epoch(0)));
            if let Some(prefix) = &self.train_prefix {
                parts.push((EvalSource::TrainPrefix, prefix.epoch(0)));
            }
        }
        Box::new(Evaluations {
            parts,
            epoch,
            images: 0,
            total: self.images(),
        })
    }

    fn num_items(&self) -> usize {
        self.images()
    }

    fn to_device(&self, _device: &Device) -> Arc<dyn DataLoader<EvalBatch>> {
        Arc::new(self.shared())
    }

    /// Evaluation is not split between devices: the whole split.
    fn slice(&self, _start: usize, _end: usize) -> Arc<dyn DataLoader<EvalBatch>> {
        Arc::new(self.shared())
    }
}

/// One evaluation of [`EvalBatches`].
struct Evaluations {
    parts: Vec<(EvalSource, EpochBatches)>,
    epoch: usize,
    images: usize,
    total: usize,
}

impl Iterator for Evaluations {
    type Item = Result<EvalBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (source, batches) = self.parts.first_mut()?;
            match batches.next() {
                Some(Ok(batch)) => {
                    self.images += batch.labels.len();
                    return Some(Ok(EvalBatch {
                        batch,
                        source: *source,
                        epoch: self.epoch,
                    }));
                }
                Some(Err(e)) => return Some(Err(DatasetError::new(e))),
                None => {
                    self.parts.remove(0);
                }
            }
        }
    }
}

impl DataLoaderIterator<EvalBatch> for Evaluations {
    fn progress(&self) -> Progress {
        Progress::new(self.images, self.total, Some("images".into()))
    }
}

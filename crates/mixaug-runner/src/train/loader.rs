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

/// How the batches of an epoch are shared between the devices of a run.
///
/// Each optimiser step takes one batch per device, and burn-train's data-parallel workers
/// meet in every step (distributed data parallel: in the all-reduce), so every device must
/// get the same number of batches: a device with one more would wait for the others
/// forever. burn-train's `split_dataloader` gives each device `items / devices` of the
/// loader's items and the last device the remainder, so the run's training loader holds
/// a multiple of `devices` batches: the remainder of the epoch (fewer batches than
/// devices) is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceShares {
    /// Batches of an epoch before the split (the loader's full batches, or fewer when
    /// [`RunControl::max_steps_per_epoch`](super::RunControl::max_steps_per_epoch) stops
    /// the epoch earlier).
    pub batches: usize,
    /// Devices training together.
    pub devices: usize,
    /// Optimiser steps per epoch: the batches of each device.
    pub steps: usize,
    /// Batches of each epoch that no device trains on (fewer than `devices`).
    pub dropped: usize,
}

impl DeviceShares {
    /// The shares of `batches` batches per epoch between `devices` devices.
    ///
    /// # Errors
    /// When there is no batch, or fewer batches than devices (no step would be taken).
    pub fn new(batches: usize, devices: usize) -> anyhow::Result<Self> {
        // Public: a caller may pass 0, which would divide by zero below.
        anyhow::ensure!(devices > 0, "training needs at least one device");
        anyhow::ensure!(batches > 0, "the training set gives no full batch");
        anyhow::ensure!(
            batches >= devices,
            "an epoch of {batches} batches cannot be shared by {devices} devices (one batch \
             each per step)"
        );
        Ok(Self {
            batches,
            devices,
            steps: batches / devices,
            dropped: batches % devices,
        })
    }

    /// The batches trained per epoch, all devices' together.
    pub fn used(&self) -> usize {
        self.steps * self.devices
    }
}

/// E.g. "10 batches per epoch on 3 devices: 3 steps of 3, 1 batch dropped".
impl std::fmt::Display for DeviceShares {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = |n: usize, one: &str, many: &str| match n {
            1 => format!("1 {one}"),
            n => format!("{n} {many}"),
        };
        write!(
            f,
            "{} per epoch on {}: {}",
            count(self.batches, "batch", "batches"),
            count(self.devices, "device", "devices"),
            count(self.steps, "step", "steps"),
        )?;
        if self.devices > 1 {
            write!(f, " of {}", self.devices)?;
        }
        if self.dropped > 0 {
            write!(f, ", {} dropped", count(self.dropped, "batch", "batches"))?;
        }
        Ok(())
    }
}

/// The training split: the batches `batches` (indices within an epoch) of each epoch.
///
/// burn-train splits it between devices by items (`num_items` counts full batches) and
/// [`Self::slice`]s whole batches: with a multiple of the devices' number of batches
/// ([`DeviceShares::used`]) every device gets `steps` of them.
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

#[cfg(test)]
mod tests {
    use burn::data::dataloader::split::split_dataloader;
    use mixaug_data::{ImageU8, InMemoryDataset, LoaderConfig, Normalize, Pipeline};

    use super::*;

    /// A training loader over `images` 2×2 grey images.
    fn loader(images: usize, batch_size: usize, drop_last: bool) -> Loader {
        let dataset = InMemoryDataset::new(
            (0..images)
                .map(|i| ImageU8::new(2, 2, 1, vec![i as u8; 4]).unwrap())
                .collect(),
            (0..images).map(|i| i % 2).collect(),
            2,
        )
        .unwrap();
        let config = LoaderConfig::new(batch_size)
            .with_workers(1)
            .with_seed(3)
            .with_drop_last(drop_last);
        let normalize = Normalize {
            mean: [0.5; 3],
            std: [0.25; 3],
        };
        Loader::new(Arc::new(dataset), Pipeline::default(), normalize, config).unwrap()
    }

    /// The batches of each device when burn-train splits `loader` (its own
    /// `split_dataloader`, which both its multi-device and its distributed data parallel
    /// strategies call) between `devices` devices.
    fn split(loader: Arc<dyn DataLoader<StepBatch>>, devices: usize) -> Vec<Vec<StepBatch>> {
        split_dataloader(loader, &vec![Device::flex(); devices])
            .iter()
            .map(|part| part.iter().map(Result::unwrap).collect())
            .collect()
    }

    #[test]
    fn every_device_gets_the_same_batches_of_burn_trains_split() {
        // (devices, images, batch size, drop-last): with and without a short last batch in
        // the data, a remainder of the epoch or none.
        for (devices, images, batch_size, drop_last) in [
            (3, 40, 4, true),  // 10 batches: 3 steps of 3, 1 dropped
            (3, 43, 4, true),  // 10 full batches, the short one left out by the loader
            (3, 43, 4, false), // 11 batches, the short one among the 2 dropped
            (2, 30, 4, false), // 8 batches, the short last one trained by device 2
            (4, 27, 3, true),  // 9 batches: 2 steps of 4, 1 dropped
            (5, 50, 1, true),  // 50 batches: 10 steps of 5, none dropped
            (3, 100, 5, true), // 20 batches: 6 steps of 3, 2 dropped
            (2, 5, 2, false),  // 3 batches: 1 step of 2, the short one dropped
            (1, 10, 4, false), // one device: every batch, the short one included
            (7, 7, 1, true),   // as many batches as devices
        ] {
            let case = format!("{devices} devices, {images} images in batches of {batch_size}");
            let loader = loader(images, batch_size, drop_last);
            let shares = DeviceShares::new(loader.num_batches(), devices).unwrap();
            assert_eq!(shares.batches, loader.num_batches(), "{case}");
            assert_eq!(shares.used() + shares.dropped, shares.batches, "{case}");
            assert!(shares.dropped < devices, "{case}");
            let train = Arc::new(TrainBatches::new(loader.clone(), shares.used(), 0));
            let parts = split(train, devices);
            assert_eq!(parts.len(), devices, "{case}");
            for (device, part) in parts.iter().enumerate() {
                assert_eq!(
                    part.len(),
                    shares.steps,
                    "{case}: device {device} has {} batches",
                    part.len()
                );
                // Device d takes the epoch's batches d·steps .. (d + 1)·steps.
                let steps: Vec<usize> = part.iter().map(|b| b.step).collect();
                let first = device * shares.steps;
                assert_eq!(steps, (first..first + shares.steps).collect::<Vec<_>>());
                assert!(part.iter().all(|b| b.epoch == 0), "{case}");
            }
            // Together the devices train the epoch's first `used` batches, in its order.
            let expected: Vec<Vec<usize>> = loader
                .epoch(0)
                .take(shares.used())
                .map(|b| b.unwrap().indices)
                .collect();
            let trained: Vec<Vec<usize>> = parts
                .iter()
                .flatten()
                .map(|b| b.batch.indices.clone())
                .collect();
            assert_eq!(trained, expected, "{case}");
        }
    }

    #[test]
    fn burn_trains_split_of_a_remainder_is_unequal() {
        // What the shares prevent: burn-train gives the last device the remainder of the
        // items, here 10 batches of 4 on 3 devices → 3, 3 and 4 batches, and the device
        // with 4 would wait for the others in its last step.
        let loader = loader(40, 4, true);
        let parts = split(Arc::new(TrainBatches::new(loader, 10, 0)), 3);
        let counts: Vec<usize> = parts.iter().map(Vec::len).collect();
        assert_eq!(counts, [3, 3, 4]);
    }

    #[test]
    fn shares_are_described_and_refused_when_impossible() {
        let text = |batches, devices| DeviceShares::new(batches, devices).unwrap().to_string();
        assert_eq!(
            text(10, 3),
            "10 batches per epoch on 3 devices: 3 steps of 3, 1 batch dropped"
        );
        assert_eq!(
            text(11, 3),
            "11 batches per epoch on 3 devices: 3 steps of 3, 2 batches dropped"
        );
        assert_eq!(text(4, 2), "4 batches per epoch on 2 devices: 2 steps of 2");
        assert_eq!(text(2, 2), "2 batches per epoch on 2 devices: 1 step of 2");
        assert_eq!(text(1, 1), "1 batch per epoch on 1 device: 1 step");
        let err = DeviceShares::new(2, 3).unwrap_err().to_string();
        assert!(err.contains("cannot be shared by 3 devices"), "{err}");
        let err = DeviceShares::new(0, 1).unwrap_err().to_string();
        assert!(err.contains("no full batch"), "{err}");
    }
}

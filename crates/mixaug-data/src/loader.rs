//! [`Loader`]: multi-threaded decoding and augmentation with prefetch.

use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use rayon::prelude::*;

use crate::{DataError, DataRng, ImageDataset, Normalize, Pipeline};

/// How batches are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct LoaderConfig {
    /// Images per batch.
    pub batch_size: usize,
    /// Shuffle each epoch (from the `(seed, epoch)` stream); `false` keeps the data order.
    pub shuffle: bool,
    /// Drop the last, incomplete batch (training) or keep it (evaluation).
    pub drop_last: bool,
    /// Decoding threads. Default: the number of CPUs.
    pub workers: usize,
    /// Batches prepared ahead of the consumer. Default 2.
    pub prefetch: usize,
    /// The experiment seed.
    pub seed: u64,
    /// Expand grey images to three channels.
    pub to_rgb: bool,
}

impl LoaderConfig {
    /// Shuffled, drop-last batches of `batch_size` with seed 0 (a training loader).
    pub fn new(batch_size: usize) -> Self {
        Self {
            batch_size,
            shuffle: true,
            drop_last: true,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            prefetch: 2,
            seed: 0,
            to_rgb: false,
        }
    }
    /// Sets [`shuffle`](Self::shuffle).
    pub fn with_shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }
    /// Sets [`drop_last`](Self::drop_last).
    pub fn with_drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }
    /// Sets [`workers`](Self::workers).
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }
    /// Sets [`seed`](Self::seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Sets [`to_rgb`](Self::to_rgb).
    pub fn with_to_rgb(mut self, to_rgb: bool) -> Self {
        self.to_rgb = to_rgb;
        self
    }
}

/// One batch, ready to become a tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// `[N, C, H, W]`.
    pub shape: [usize; 4],
    /// Normalised values, `N·C·H·W`, row-major NCHW.
    pub images: Vec<f32>,
    /// Labels, `N`.
    pub labels: Vec<i64>,
    /// The data set indices of the samples, `N`.
    pub indices: Vec<usize>,
}

/// Reads a data set in batches, decoding and augmenting on worker threads.
///
/// ```
/// use std::sync::Arc;
/// use mixaug_data::{ImageU8, InMemoryDataset, Loader, LoaderConfig, Normalize, Pipeline};
/// let images = (0..5u8)
///     .map(|v| ImageU8::new(2, 3, 1, vec![v; 6]).unwrap())
///     .collect();
/// let data = InMemoryDataset::new(images, vec![0, 1, 0, 1, 0], 2).unwrap();
/// let norm = Normalize { mean: [0.0; 3], std: [1.0; 3] };
/// let loader = Loader::new(Arc::new(data), Pipeline::default(), norm, LoaderConfig::new(2)).unwrap();
/// let batches: Vec<_> = loader.epoch(0).collect::<Result<_, _>>().unwrap();
/// assert_eq!(batches.len(), 2); // 5 images, batches of 2, last one dropped
/// assert_eq!(batches[0].shape, [2, 1, 2, 3]);
/// ```
#[derive(Clone)]
pub struct Loader {
    dataset: Arc<dyn ImageDataset>,
    pipeline: Pipeline,
    normalize: Normalize,
    config: LoaderConfig,
    pool: Arc<rayon::ThreadPool>,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("len", &self.dataset.len())
            .field("pipeline", &self.pipeline)
            .field("normalize", &self.normalize)
            .field("config", &self.config)
            .finish()
    }
}

impl Loader {
    /// A loader; errors on a zero batch size, zero workers or invalid transforms.
    pub fn new(
        dataset: Arc<dyn ImageDataset>,
        pipeline: Pipeline,
        normalize: Normalize,
        config: LoaderConfig,
    ) -> Result<Self, DataError> {
        if config.batch_size == 0 || config.workers == 0 || config.prefetch == 0 {
            return Err(DataError::InvalidOption {
                name: "loader",
                reason: format!(
                    "batch_size ({}), workers ({}) and prefetch ({}) must be positive",
                    config.batch_size, config.workers, config.prefetch
                ),
            });
        }
        pipeline.validate()?;
        normalize.validate()?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.workers)
            .thread_name(|i| format!("mixaug-data-{i}"))
            .build()
            .map_err(|e| DataError::InvalidOption {
                name: "loader.workers",
                reason: e.to_string(),
            })?;
        Ok(Self {
            dataset,
            pipeline,
            normalize,
            config,
            pool: Arc::new(pool),
        })
    }

    /// Images per batch (the last one of an epoch may hold fewer without drop-last).
    pub fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    /// Number of batches per epoch.
    pub fn num_batches(&self) -> usize {
        let (n, b) = (self.dataset.len(), self.config.batch_size);
        if self.config.drop_last {
            n / b
        } else {
            n.div_ceil(b)
        }
    }

    /// Images per epoch: every batch's, the last one's included (without drop-last it
    /// may hold fewer than [`Self::batch_size`]).
    pub fn num_images(&self) -> usize {
        let (n, b) = (self.dataset.len(), self.config.batch_size);
        if self.config.drop_last { n / b * b } else { n }
    }

    /// The sample order of `epoch`.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if self.config.shuffle {
            DataRng::for_shuffle(self.config.seed, epoch).shuffle(&mut order);
        }
        order
    }

    /// Loads the batch of the given data set indices (on the worker pool).
    pub fn load(&self, epoch: u64, indices: &[usize]) -> Result<Batch, DataError> {
        if indices.is_empty() {
            return Err(DataError::InvalidOption {
                name: "loader.load",
                reason: "a batch needs at least one index".into(),
            });
        }
        let images = self.pool.install(|| {
            indices
                .par_iter()
                .map(|&i| {
                    let sample = self.dataset.get(i)?;
                    let mut rng = DataRng::for_sample(self.config.seed, epoch, i as u64);
                    let image = if self.config.to_rgb {
                        sample.image.to_rgb()
                    } else {
                        sample.image
                    };
                    Ok((self.pipeline.apply(image, &mut rng)?, sample.label))
                })
                .collect::<Result<Vec<_>, DataError>>()
        })?;
        let first = &images[0].0;
        let (c, h, w) = (first.channels, first.height, first.width);
        let mut out = Vec::with_capacity(indices.len() * c * h * w);
        let mut labels = Vec::with_capacity(indices.len());
        for ((image, label), &index) in images.iter().zip(indices) {
            if (image.channels, image.height, image.width) != (c, h, w) {
                return Err(DataError::InvalidOption {
                    name: "pipeline",
                    reason: format!(
                        "sample {index} is {}×{}×{} after the transforms but the batch is \
                         {c}×{h}×{w}; end the pipeline with a fixed-size crop or resize \
                         (and set to_rgb for mixed grey/colour data)",
                        image.channels, image.height, image.width
                    ),
                });
            }
            self.normalize.to_chw(image, &mut out);
            labels.push(*label as i64);
        }
        Ok(Batch {
            shape: [indices.len(), c, h, w],
            images: out,
            labels,
            indices: indices.to_vec(),
        })
    }

    /// The batches of `epoch`, prepared `prefetch` ahead on a background thread.
    pub fn epoch(&self, epoch: u64) -> EpochBatches {
        self.epoch_part(epoch, 0..usize::MAX)
    }

    /// The batches `part` (batch indices, clipped to the epoch's) of `epoch`, prepared
    /// like [`Self::epoch`]'s: one device's share of an epoch under data parallelism, or
    /// its first steps.
    pub fn epoch_part(&self, epoch: u64, part: Range<usize>) -> EpochBatches {
        let order = self.order(epoch);
        let batches: Vec<Vec<usize>> = order
            .chunks(self.config.batch_size)
            .filter(|b| !self.config.drop_last || b.len() == self.config.batch_size)
            .skip(part.start)
            .take(part.end.saturating_sub(part.start))
            .map(<[usize]>::to_vec)
            .collect();
        let (tx, rx) = sync_channel(self.config.prefetch);
        let loader = self.clone();
        let worker = std::thread::spawn(move || {
            for indices in batches {
                let batch = loader.load(epoch, &indices);
                let failed = batch.is_err();
                // A closed receiver means the consumer stopped early: stop too.
                if tx.send(batch).is_err() || failed {
                    break;
                }
            }
        });
        EpochBatches {
            rx,
            worker: Some(worker),
        }
    }
}

/// The batches of one epoch, in order; an error ends the epoch.
#[derive(Debug)]
pub struct EpochBatches {
    rx: Receiver<Result<Batch, DataError>>,
    worker: Option<JoinHandle<()>>,
}

impl Iterator for EpochBatches {
    type Item = Result<Batch, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rx.recv() {
            Ok(batch) => Some(batch),
            Err(_) => {
                if let Some(worker) = self.worker.take() {
                    // The producer only ends by finishing or by a send error; a panic in a
                    // transform would surface here.
                    if let Err(panic) = worker.join() {
                        std::panic::resume_unwind(panic);
                    }
                }
                None
            }
        }
    }
}

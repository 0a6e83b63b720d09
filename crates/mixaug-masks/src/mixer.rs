//! The [`Mixer`] contract: a host-side `sample` and a device-side `apply`.

use std::fmt::Debug;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{BatchShape, MixError, MixRng, MixedTarget, Permutation};

/// A mixing method, split in two halves.
///
/// 1. [`sample`](Mixer::sample) draws everything random (λ, π, boxes, …) on the host from
///    a [`MixRng`] into a plain `Params` value that can be printed, stored, compared
///    exactly across backends and replayed.
/// 2. [`apply`](Mixer::apply) is pure tensor work on the images' device: it builds the
///    masks batched over `N` and returns the mixed images, the [`MixedTarget`] and π.
///
/// ```
/// use burn::prelude::*;
/// use mixaug_masks::{CutMixConfig, Mixer, MixRng};
/// let device = Device::flex();
/// let images = Tensor::<4>::ones([4, 3, 8, 12], &device);
/// let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 3], &device);
/// let cutmix = CutMixConfig::new().with_alpha(1.0).init().unwrap();
/// let mixed = cutmix.mix(&mut MixRng::from_seed(0), images, labels).unwrap();
/// assert_eq!(mixed.images.dims(), [4, 3, 8, 12]);
/// assert_eq!(mixed.target.num_sources(), 2);
/// ```
pub trait Mixer {
    /// Everything the method draws at random for one batch.
    type Params: Clone + Debug + PartialEq;

    /// Draws the parameters for a batch of this shape.
    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<Self::Params, MixError>;

    /// Mixes a batch with given parameters.
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    /// - `labels`: `[N]`
    fn apply(
        &self,
        params: &Self::Params,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    ) -> Result<Mixed, MixError>;

    /// [`sample`](Mixer::sample) then [`apply`](Mixer::apply).
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    /// - `labels`: `[N]`
    fn mix(
        &self,
        rng: &mut MixRng,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    ) -> Result<Mixed, MixError> {
        let batch = BatchShape::of_batch(&images, &labels)?;
        let params = self.sample(rng, batch)?;
        self.apply(&params, images, labels)
    }
}

/// The output of a mixer.
#[derive(Debug, Clone)]
pub struct Mixed {
    /// The mixed images, `[N, C, H, W]`.
    pub images: Tensor<4>,
    /// What each mixed image should be classified as.
    pub target: MixedTarget,
    /// The permutation π, `[N]`: the partner of sample `i` is `perm[i]` (SUMix needs it).
    pub perm: Tensor<1, Int>,
}

/// Whether a method draws one λ for the batch (the references) or one per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LamMode {
    /// One λ (and one box) shared by the whole batch, as every reference does.
    #[default]
    PerBatch,
    /// An independent λ (and box) for every sample.
    PerSample,
}

impl LamMode {
    /// How many draws a batch of `n` needs.
    pub fn draws(&self, n: usize) -> usize {
        match self {
            LamMode::PerBatch => 1,
            LamMode::PerSample => n,
        }
    }
}

/// Checks that parameters drawn for `params_n` samples with `draws` per-batch or
/// per-sample values fit a batch of `batch_n`.
pub(crate) fn check_params_fit(
    method: &'static str,
    perm: &Permutation,
    draws: usize,
    batch_n: usize,
) -> Result<(), MixError> {
    if perm.len() != batch_n || (draws != 1 && draws != batch_n) {
        return Err(MixError::ShapeMismatch {
            what: method,
            expected: format!("parameters for a batch of {batch_n}"),
            got: format!("a permutation of {} with {draws} draw(s)", perm.len()),
        });
    }
    Ok(())
}

/// The pair target `(y, y[π])` with base weights `w_a` (device values) and partner
/// weights `1 − w_a`.
///
/// # Shapes
/// - `labels`, `perm`, `w_a`: `[N]`
pub(crate) fn pair_target_device(
    labels: Tensor<1, Int>,
    perm: &Tensor<1, Int>,
    w_a: Tensor<1>,
) -> Result<MixedTarget, MixError> {
    let y_b = labels.clone().select(0, perm.clone());
    let w_b = w_a.clone().neg().add_scalar(1.0);
    MixedTarget::pair(labels, y_b, w_a, w_b)
}

/// The pair target `(y, y[π])` from host values: base weights `w_a` (one for the batch or
/// one per sample) and partner weights `1 − w_a`.
///
/// # Shapes
/// - `labels`, `partners`: `[N]`
pub(crate) fn pair_target(
    labels: Tensor<1, Int>,
    partners: &[usize],
    w_a: &[f64],
) -> Result<MixedTarget, MixError> {
    host_target(labels, 2, |i, k| {
        let w = w_a[i.min(w_a.len() - 1)] as f32;
        if k == 0 {
            (i, w)
        } else {
            (partners[i], 1.0 - w)
        }
    })
}

/// A target of `k` sources per sample from host values: `source(i, j)` gives the index
/// into `labels` of sample `i`'s `j`-th class and its weight. Two uploads and one gather
/// (a handful of separate tensor operations cost several times more at small batches).
///
/// # Shapes
/// - `labels`: `[N]`; output `[N, k]`
pub(crate) fn host_target(
    labels: Tensor<1, Int>,
    k: usize,
    source: impl Fn(usize, usize) -> (usize, f32),
) -> Result<MixedTarget, MixError> {
    let [n] = labels.dims();
    let (index, weights): (Vec<i64>, Vec<f32>) = (0..n)
        .flat_map(|i| (0..k).map(move |j| (i, j)))
        .map(|(i, j)| {
            let (class, weight) = source(i, j);
            (class as i64, weight)
        })
        .unzip();
    if let Some(&bad) = index.iter().find(|&&c| c as usize >= n) {
        return Err(MixError::ShapeMismatch {
            what: "mixed target",
            expected: format!("source samples in 0..{n}"),
            got: format!("sample {bad}"),
        });
    }
    let device = labels.device();
    let index = Tensor::<1, Int>::from_data(TensorData::new(index, [n * k]), &device);
    let weights = Tensor::<2>::from_data(TensorData::new(weights, [n, k]), &device);
    MixedTarget::new(labels.select(0, index).reshape([n, k]), weights)
}

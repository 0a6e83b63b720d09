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

/// Per-sample values (one for the batch, or one per sample) as a `[N]` tensor.
pub(crate) fn per_sample(values: &[f64], n: usize, device: &Device) -> Tensor<1> {
    let v: Vec<f32> = (0..n)
        .map(|i| values[i.min(values.len() - 1)] as f32)
        .collect();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// The pair target `(y, y[π])` with base weights `w_a` and partner weights `1 − w_a`.
///
/// # Shapes
/// - `labels`, `perm`, `w_a`: `[N]`
pub(crate) fn pair_target(
    labels: Tensor<1, Int>,
    perm: &Tensor<1, Int>,
    w_a: Tensor<1>,
) -> Result<MixedTarget, MixError> {
    let y_b = labels.clone().select(0, perm.clone());
    let w_b = w_a.clone().neg().add_scalar(1.0);
    MixedTarget::pair(labels, y_b, w_a, w_b)
}

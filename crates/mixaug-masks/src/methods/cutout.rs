//! Cutout: erase a box of every image (a baseline in the SnapMix and SaliencyMix tables).
//!
//! DeVries & Taylor, *Improved Regularization of Convolutional Neural Networks with
//! Cutout*, arXiv 1708.04552, 2017 (uoguelph-mlrg/Cutout `util/cutout.py`); the per-batch
//! variant is SnapMix's `utils/mixmethod.py` `cutout`. Spec: METHODS.md §5.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::check_probability;
use crate::mixer::{Pairs, configured};
use crate::ops::{LineMask, Mask, Source, blend};
use crate::{BatchShape, CutBox, Guide, MixError, MixRng, Mixed, Mixer, Permutation};

/// Which Cutout.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CutoutMode {
    /// DeVries & Taylor: per image, a square of side `side` (16 for CIFAR-10, 8 for
    /// CIFAR-100) around a uniform centre, clipped. The stored revision of the reference
    /// uses `centre ± side` (side 2L); the paper and this port use side L.
    PerImage {
        /// Side of the square, in pixels.
        side: usize,
    },
    /// SnapMix's variant: one §0.3 box of ratio `lam` (0.75 ⇒ side ≈ H/2) shared by the batch.
    PerBatch {
        /// Ratio of the box (λ of §0.3).
        lam: f64,
    },
}

/// Configuration of [`Cutout`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CutoutConfig {
    /// Default: per image, side 16 (DeVries, CIFAR-10).
    pub mode: CutoutMode,
    /// Value written into the box, in the normalised space the batch is in. Default 0
    /// (the dataset mean colour after normalisation), as both references.
    pub fill: f64,
    /// Probability that a batch is cut. Default 1.
    pub prob: f64,
}

impl Default for CutoutConfig {
    fn default() -> Self {
        Self {
            mode: CutoutMode::PerImage { side: 16 },
            fill: 0.0,
            prob: 1.0,
        }
    }
}

impl CutoutConfig {
    /// The defaults (see the fields).
    pub fn new() -> Self {
        Self::default()
    }
    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_probability("cutout.prob", self.prob)?;
        // The fill is written into f32 images: beyond f32's range it would be ±∞.
        if !(self.fill.is_finite() && (self.fill as f32).is_finite()) {
            return Err(MixError::InvalidHyperParameter {
                name: "cutout.fill",
                value: self.fill,
                expected: "a finite value within f32's range (the images' element type)",
            });
        }
        match self.mode {
            CutoutMode::PerImage { side: 0 } => Err(MixError::InvalidHyperParameter {
                name: "cutout.mode.per_image.side",
                value: 0.0,
                expected: "a positive side length",
            }),
            CutoutMode::PerBatch { lam } => check_probability("cutout.mode.per_batch.lam", lam),
            CutoutMode::PerImage { .. } => Ok(()),
        }
    }
}

configured! {
    Cutout(CutoutConfig) {
        with_mode => mode: CutoutMode,
        with_fill => fill: f64,
        with_prob => prob: f64,
    }
}

/// What Cutout draws for one batch: one box, or one per image (empty when the gate did
/// not fire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CutoutParams {
    /// The erased regions.
    pub regions: Vec<CutBox>,
}

/// Cutout: the box is set to `fill`; labels are untouched (a one-source target) and π is
/// the identity.
#[derive(Debug, Clone)]
pub struct Cutout {
    config: CutoutConfig,
}

impl Mixer for Cutout {
    type Params = CutoutParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<Self::Params, MixError> {
        batch.require_size("cutout", 1, 1)?;
        let active = rng.gate(self.config.prob);
        let regions = match self.config.mode {
            CutoutMode::PerImage { side } => (0..batch.n)
                .map(|_| {
                    let (r, c) = (rng.below(batch.h), rng.below(batch.w));
                    let region = CutBox::centred(batch.h, batch.w, side / 2, side / 2, r, c);
                    if active { region } else { CutBox::default() }
                })
                .collect(),
            CutoutMode::PerBatch { lam } => {
                let region = CutBox::sample(rng, batch.h, batch.w, lam);
                vec![if active { region } else { CutBox::default() }]
            }
        };
        Ok(CutoutParams { regions })
    }

    fn apply(
        &self,
        params: &Self::Params,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        _guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let identity = Permutation::identity(images.dims()[0]);
        let (erased, images) = Pairs::check_labelled(
            "cutout parameters",
            images,
            labels,
            &identity,
            params.regions.len(),
        )?;
        // An empty batch has nothing to erase (and a mask of no planes cannot be broadcast).
        let images = if erased.batch.n == 0 || params.regions.iter().all(CutBox::is_empty) {
            images
        } else {
            let b = erased.batch;
            let keep = LineMask::boxes(&params.regions, b.n, b.h, b.w, 0.0, 1.0);
            blend(
                images,
                Source::Fill(self.config.fill as f32),
                &Mask::Lines(keep),
            )
        };
        erased.unmixed_target(images)
    }
}

//! CutMix: paste a box of the partner image into the base image.
//!
//! Yun, Han, Oh, Chun, Choe, Yoo, *CutMix: Regularization Strategy to Train Strong
//! Classifiers with Localizable Features*, ICCV 2019. Reference code:
//! clovaai/CutMix-PyTorch `train.py` (`rand_bbox`); openmixup
//! `openmixup/models/augments/cutmix.py`. Spec: METHODS.md §0.3 and §4.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{check_alpha, check_probability};
use crate::mixer::{Pairs, configured, open_pairs};
use crate::ops::paste_boxes;
use crate::{
    BatchShape, CutBox, Guide, LamMode, MixError, MixRng, Mixed, Mixer, Pairing, Permutation,
};

/// Configuration of [`CutMix`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CutMixConfig {
    /// Concentration α of `λ ~ Beta(α, α)`. Default 1 (CutMix paper); the SUMix tables
    /// use 0.2. `α = 0` means λ = 1 (no mixing); `α < 0` is an error.
    pub alpha: f64,
    /// Probability that a batch is mixed. Default 1 (CutMix ImageNet, openmixup, SUMix);
    /// the CutMix CIFAR recipe uses 0.5.
    pub prob: f64,
    /// One box per batch (default, reference) or one per sample.
    pub lam_mode: LamMode,
    /// How partners are chosen. Default: a random permutation (reference).
    pub pairing: Pairing,
    /// Train with the pasted-area ratio `λ' = 1 − area/(HW)` (default, every reference)
    /// instead of the sampled λ.
    pub correct_lam: bool,
}

impl Default for CutMixConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            prob: 1.0,
            lam_mode: LamMode::PerBatch,
            pairing: Pairing::RandomPermutation,
            correct_lam: true,
        }
    }
}

impl CutMixConfig {
    /// The defaults: α = 1, prob = 1, one box per batch, random permutation, corrected λ.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("cutmix.alpha", self.alpha)?;
        check_probability("cutmix.prob", self.prob)
    }
}

configured! {
    CutMix(CutMixConfig) {
        with_alpha => alpha: f64,
        with_prob => prob: f64,
        with_lam_mode => lam_mode: LamMode,
        with_pairing => pairing: Pairing,
        with_correct_lam => correct_lam: bool,
    }
}

/// One CutMix draw: the sampled ratio and the box it gave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CutDraw {
    /// The λ drawn from `Beta(α, α)` (1 when the gate did not fire).
    pub sampled_lam: f64,
    /// The pasted region (empty when λ = 1).
    pub region: CutBox,
}

/// What CutMix draws for one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CutMixParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// One draw for the batch, or one per sample.
    pub cuts: Vec<CutDraw>,
}

/// CutMix: the region `box` of `x_π(i)` replaces the same region of `x_i`; the base label
/// keeps the weight `λ' = 1 − area/(HW)`.
#[derive(Debug, Clone)]
pub struct CutMix {
    config: CutMixConfig,
}

impl Mixer for CutMix {
    type Params = CutMixParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<CutMixParams, MixError> {
        let c = &self.config;
        let (lams, perm) = open_pairs(rng, batch, c.prob, c.pairing, |rng, mixing| {
            c.lam_mode.lams(rng, c.alpha, batch.n, mixing)
        })?;
        let cuts = lams
            .into_iter()
            .map(|lam| CutDraw {
                sampled_lam: lam,
                region: CutBox::sample(rng, batch.h, batch.w, lam),
            })
            .collect();
        Ok(CutMixParams { perm, cuts })
    }

    fn apply(
        &self,
        params: &CutMixParams,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        _guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let (pairs, images) = Pairs::check(
            "cutmix parameters",
            images,
            labels,
            &params.perm,
            params.cuts.len(),
        )?;
        let regions: Vec<CutBox> = params.cuts.iter().map(|c| c.region).collect();
        let (h, w) = (pairs.batch.h, pairs.batch.w);
        check_regions("cutmix boxes", &regions, h, w)?;
        let images = paste_boxes(images, pairs.partners(), &regions);
        let w_a: Vec<f64> = params
            .cuts
            .iter()
            .map(|c| {
                if self.config.correct_lam {
                    c.region.kept_fraction(h, w)
                } else {
                    c.sampled_lam
                }
            })
            .collect();
        pairs.mixed(images, &w_a)
    }
}

/// Errors unless every box lies inside the `h × w` image (boxes drawn for larger images
/// would be clipped by the mask and give the target a negative weight).
pub(crate) fn check_regions(
    what: &'static str,
    regions: &[CutBox],
    h: usize,
    w: usize,
) -> Result<(), MixError> {
    match regions.iter().find(|b| b.y1() > h || b.x1() > w) {
        Some(b) => Err(MixError::ShapeMismatch {
            what,
            expected: format!("boxes inside {h}×{w}"),
            got: format!("{b:?}"),
        }),
        None => Ok(()),
    }
}

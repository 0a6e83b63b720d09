//! Mixup: convex combinations of image pairs and of their labels.
//!
//! Zhang, Cisse, Dauphin, Lopez-Paz, *mixup: Beyond Empirical Risk Minimization*, ICLR 2018.
//! Reference code: facebookresearch/mixup-cifar10 `train.py` (`mixup_data`); openmixup
//! `openmixup/models/augments/mixup.py`. Spec: METHODS.md §2.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{check_alpha, check_probability};
use crate::mixer::{Pairs, configured, open_pairs};
use crate::ops::{LineMask, Mask, Source, blend};
use crate::{BatchShape, Guide, LamMode, MixError, MixRng, Mixed, Mixer, Pairing, Permutation};

/// Configuration of [`Mixup`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MixupConfig {
    /// Concentration α of `λ ~ Beta(α, α)`. Default 1 (Zhang's CIFAR recipe, openmixup).
    /// `α = 0` means λ = 1 (no mixing), as in the reference; `α < 0` is an error.
    pub alpha: f64,
    /// Probability that a batch is mixed at all. Default 1.
    pub prob: f64,
    /// One λ per batch (default, reference) or one per sample.
    pub lam_mode: LamMode,
    /// How partners are chosen. Default: a random permutation (reference).
    pub pairing: Pairing,
}

impl Default for MixupConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            prob: 1.0,
            lam_mode: LamMode::PerBatch,
            pairing: Pairing::RandomPermutation,
        }
    }
}

impl MixupConfig {
    /// The defaults: α = 1, prob = 1, per-batch λ, random permutation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("mixup.alpha", self.alpha)?;
        check_probability("mixup.prob", self.prob)
    }
}

configured! {
    Mixup(MixupConfig) {
        with_alpha => alpha: f64,
        with_prob => prob: f64,
        with_lam_mode => lam_mode: LamMode,
        with_pairing => pairing: Pairing,
    }
}

/// What Mixup draws for one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixupParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// The weight of the base image: one value for the batch, or one per sample.
    pub lam: Vec<f64>,
}

/// Mixup: `x̃_i = λ·x_i + (1 − λ)·x_π(i)`, target `λ·e(y_i) + (1 − λ)·e(y_π(i))`.
#[derive(Debug, Clone)]
pub struct Mixup {
    config: MixupConfig,
}

impl Mixer for Mixup {
    type Params = MixupParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<MixupParams, MixError> {
        let c = &self.config;
        let (lam, perm) = open_pairs(rng, batch, c.prob, c.pairing, |rng, mixing| {
            c.lam_mode.lams(rng, c.alpha, batch.n, mixing)
        })?;
        Ok(MixupParams { perm, lam })
    }

    fn apply(
        &self,
        params: &MixupParams,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        _guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let (pairs, images) = Pairs::check(
            "mixup parameters",
            images,
            labels,
            &params.perm,
            params.lam.len(),
        )?;
        let images = if params.lam.iter().all(|&l| l == 1.0) {
            images
        } else {
            // x_π + (x − x_π)·λ = λ·x + (1 − λ)·x_π, one weight per sample.
            let b = pairs.batch;
            let weights = LineMask::uniform(&params.lam, b.n, b.h, b.w);
            blend(
                images,
                Source::Partner(pairs.partners()),
                &Mask::Lines(weights),
            )
        };
        pairs.mixed(images, &params.lam)
    }
}

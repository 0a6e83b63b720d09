//! Mixup: convex combinations of image pairs and of their labels.
//!
//! Zhang, Cisse, Dauphin, Lopez-Paz, *mixup: Beyond Empirical Risk Minimization*, ICLR 2018.
//! Reference code: facebookresearch/mixup-cifar10 `train.py` (`mixup_data`); openmixup
//! `openmixup/models/augments/mixup.py`. Spec: METHODS.md §2.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{check_alpha, check_probability};
use crate::fused::{LineMask, Mask, Source, blend};
use crate::mixer::{check_params_fit, pair_target};
use crate::{BatchShape, LamMode, MixError, MixRng, Mixed, Mixer, Pairing, Permutation};

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
    /// Sets [`alpha`](Self::alpha).
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
    /// Sets [`prob`](Self::prob).
    pub fn with_prob(mut self, prob: f64) -> Self {
        self.prob = prob;
        self
    }
    /// Sets [`lam_mode`](Self::lam_mode).
    pub fn with_lam_mode(mut self, lam_mode: LamMode) -> Self {
        self.lam_mode = lam_mode;
        self
    }
    /// Sets [`pairing`](Self::pairing).
    pub fn with_pairing(mut self, pairing: Pairing) -> Self {
        self.pairing = pairing;
        self
    }

    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("mixup.alpha", self.alpha)?;
        check_probability("mixup.prob", self.prob)
    }

    /// A validated [`Mixup`].
    pub fn init(&self) -> Result<Mixup, MixError> {
        self.validate()?;
        Ok(Mixup {
            config: self.clone(),
        })
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

impl Mixup {
    /// The configuration this mixer was built from.
    pub fn config(&self) -> &MixupConfig {
        &self.config
    }
}

impl Mixer for Mixup {
    type Params = MixupParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<MixupParams, MixError> {
        batch.require_mixable()?;
        let draws = self.config.lam_mode.draws(batch.n);
        let lam = if rng.gate(self.config.prob) {
            (0..draws).map(|_| rng.beta(self.config.alpha)).collect()
        } else {
            vec![1.0; draws]
        };
        let perm = self.config.pairing.draw(rng, batch.n);
        Ok(MixupParams { perm, lam })
    }

    fn apply(
        &self,
        params: &MixupParams,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    ) -> Result<Mixed, MixError> {
        let batch = BatchShape::of_batch(&images, &labels)?;
        check_params_fit("mixup parameters", &params.perm, params.lam.len(), batch.n)?;
        let device = images.device();
        let perm = params.perm.to_tensor(&device);
        let images = if params.lam.iter().all(|&l| l == 1.0) {
            images
        } else {
            // x_π + (x − x_π)·λ = λ·x + (1 − λ)·x_π, one weight per sample.
            let weights = LineMask::uniform(&params.lam, batch.n, batch.h, batch.w);
            blend(
                images,
                Source::Partner(params.perm.as_slice()),
                &Mask::Lines(weights),
            )
        };
        let target = pair_target(labels, params.perm.as_slice(), &params.lam)?;
        Ok(Mixed {
            images,
            target,
            perm,
        })
    }
}

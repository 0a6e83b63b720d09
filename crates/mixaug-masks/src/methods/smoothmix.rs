//! SmoothMix: blend with a Gaussian-shaped soft mask.
//!
//! Lee, Zaheer, Astrid, Lee, *SmoothMix: a Simple Yet Effective Data Augmentation to
//! Train Robust Classifiers*, CVPR Workshops 2020. Reference code (the only one):
//! openmixup `openmixup/models/augments/smoothmix.py`. Spec: METHODS.md §10.
//!
//! Non-square images: σ is relative to H (rows), the column centre to W.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::check_probability;
use crate::mixer::{Pairs, configured, open_pairs, pair_target_device};
use crate::ops::{Mask, Source, blend};
use crate::{BatchShape, Guide, MixError, MixRng, Mixed, Mixer, Pairing, Permutation};

/// Which label SmoothMix trains with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmoothMixLabel {
    /// The paper: the base label weighs `1 − mean(G)` (G multiplies the partner). Default.
    #[default]
    Paper,
    /// openmixup: the base label weighs `mean(G)` — swapped, reproduced for comparison.
    OpenmixupCompat,
}

/// Configuration of [`SmoothMix`]. The reference draws a λ from Beta(α, α) and discards
/// it, so there is no α.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmoothMixConfig {
    /// Label convention. Default [`SmoothMixLabel::Paper`].
    pub label: SmoothMixLabel,
    /// Probability that a batch is mixed. Default 1.
    pub prob: f64,
    /// How partners are chosen. Default: a random permutation (reference).
    pub pairing: Pairing,
}

impl Default for SmoothMixConfig {
    fn default() -> Self {
        Self {
            label: SmoothMixLabel::Paper,
            prob: 1.0,
            pairing: Pairing::RandomPermutation,
        }
    }
}

impl SmoothMixConfig {
    /// The defaults (see the fields).
    pub fn new() -> Self {
        Self::default()
    }
    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_probability("smoothmix.prob", self.prob)
    }
}

configured! {
    SmoothMix(SmoothMixConfig) {
        with_label => label: SmoothMixLabel,
        with_pairing => pairing: Pairing,
    }
}

/// What SmoothMix draws for one batch: the Gaussian `G(p, q) = exp(−((p−p0)² + (q−q0)²)/(2σ²))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmoothMixParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// Width σ in pixels, in `[0.25H, 0.5H)`; 0 means no mixing (the gate did not fire).
    pub sigma: f64,
    /// Row of the peak, `(H−1)/2 + trunc(U{0..H−1} − H/2)`.
    pub row: f64,
    /// Column of the peak, `(W−1)/2 + trunc(U{0..W−1} − W/2)`.
    pub col: f64,
}

/// SmoothMix: `x̃_i = (1 − G) ⊙ x_i + G ⊙ x_π(i)`, one mask for the batch.
#[derive(Debug, Clone)]
pub struct SmoothMix {
    config: SmoothMixConfig,
}

impl SmoothMix {
    /// The mask G of `params` on the device (values in (0, 1]).
    ///
    /// # Shapes
    /// - output: `[1, 1, H, W]`
    pub fn mask(params: &SmoothMixParams, h: usize, w: usize, device: &Device) -> Tensor<4> {
        let axis = |len: usize, centre: f64| {
            let d = Tensor::<1, Int>::arange(0..len as i64, device)
                .float()
                .sub_scalar(centre);
            d.clone() * d
        };
        let rows = axis(h, params.row)
            .reshape([1, 1, h, 1])
            .expand([1, 1, h, w]);
        let cols = axis(w, params.col)
            .reshape([1, 1, 1, w])
            .expand([1, 1, h, w]);
        (rows + cols)
            .div_scalar(-2.0 * params.sigma * params.sigma)
            .exp()
    }
}

impl Mixer for SmoothMix {
    type Params = SmoothMixParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<Self::Params, MixError> {
        batch.require_size("smoothmix", 2, 2)?;
        let (h, w) = (batch.h as f64, batch.w as f64);
        let c = &self.config;
        let ((sigma, d_r, d_c), perm) =
            open_pairs(rng, batch, c.prob, c.pairing, |rng, mixing| {
                let sigma = if mixing {
                    (rng.uniform() / 4.0 + 0.25) * h
                } else {
                    0.0
                };
                let d_r = (rng.below(batch.h) as f64 - h / 2.0).trunc();
                let d_c = (rng.below(batch.w) as f64 - w / 2.0).trunc();
                (sigma, d_r, d_c)
            })?;
        Ok(SmoothMixParams {
            perm,
            sigma,
            row: (h - 1.0) / 2.0 + d_r,
            col: (w - 1.0) / 2.0 + d_c,
        })
    }

    fn apply(
        &self,
        params: &Self::Params,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        _guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let (pairs, images) =
            Pairs::check("smoothmix parameters", images, labels, &params.perm, 1)?;
        if params.sigma <= 0.0 {
            return pairs.mixed(images, &[1.0]);
        }
        let b = pairs.batch;
        let g = Self::mask(params, b.h, b.w, &pairs.device());
        let mean_g = g.clone().mean();
        // g is the partner's weight: the base image keeps 1 − g.
        let keep = Mask::Tensor {
            weights: g.neg().add_scalar(1.0),
            hard: false,
        };
        let images = blend(images, Source::Partner(pairs.partners()), &keep);
        let w_a = match self.config.label {
            SmoothMixLabel::Paper => mean_g.neg().add_scalar(1.0),
            SmoothMixLabel::OpenmixupCompat => mean_g,
        };
        pairs.mixed_with(images, |labels, perm| {
            pair_target_device(labels, perm, w_a.expand([b.n]))
        })
    }
}

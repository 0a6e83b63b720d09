//! SnapMix: asymmetric boxes, label weights from semantic percent maps.
//!
//! Huang, Wang, Tao, *SnapMix: Semantically Proportional Mixing for Augmenting
//! Fine-grained Data*, AAAI 2021. Reference code: Shaoli-Huang/SnapMix
//! `utils/mixmethod.py` (`snapmix`). Spec: METHODS.md §14.2 (maps: §14.1, loss: §14.3).

use burn::prelude::*;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use serde::{Deserialize, Serialize};

use crate::error::{check_alpha, check_probability};
use crate::{BatchShape, CutBox, MixError, MixRng, Mixed, MixedTarget, Pairing, Permutation};

/// Configuration of [`SnapMix`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnapMixConfig {
    /// Concentration β of the two independent `Beta(β, β)` ratios. Default 5 (the
    /// reference's pretrained recipe); its from-scratch README commands use 1.
    pub beta: f64,
    /// Probability that a batch is mixed. Default 1; the from-scratch commands use 0.5.
    pub prob: f64,
    /// How partners are chosen. Default: a random permutation (reference).
    pub pairing: Pairing,
}

impl Default for SnapMixConfig {
    fn default() -> Self {
        Self {
            beta: 5.0,
            prob: 1.0,
            pairing: Pairing::RandomPermutation,
        }
    }
}

impl SnapMixConfig {
    /// The defaults: β = 5, prob = 1, random permutation.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets [`beta`](Self::beta).
    pub fn with_beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }
    /// Sets [`prob`](Self::prob).
    pub fn with_prob(mut self, prob: f64) -> Self {
        self.prob = prob;
        self
    }
    /// Sets [`pairing`](Self::pairing).
    pub fn with_pairing(mut self, pairing: Pairing) -> Self {
        self.pairing = pairing;
        self
    }

    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("snapmix.beta", self.beta)?;
        check_probability("snapmix.prob", self.prob)
    }

    /// A validated [`SnapMix`].
    pub fn init(&self) -> Result<SnapMix, MixError> {
        self.validate()?;
        Ok(SnapMix {
            config: self.clone(),
        })
    }
}

/// What SnapMix draws for one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapMixParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// Whether the batch is mixed (the `prob` gate).
    pub mixing: bool,
    /// Box A: where the patch goes in every base image (from `λ₁`).
    pub destination: CutBox,
    /// Box B: where the patch comes from in every partner (from `λ₂`).
    pub source: CutBox,
}

/// SnapMix: box B of `x_π(i)` is resized (bilinear, align_corners = true) into box A of
/// `x_i`; the labels are weighted by the semantic mass that moved:
/// `w_a = 1 − Σ_A SPM_i / Σ SPM_i`, `w_b = Σ_B SPM_π(i) / Σ SPM_π(i)` (not summing to 1),
/// both set to `w_a + w_b` for same-label pairs.
///
/// The semantic percent maps come from [`mixaug_maps::semantic_percent_maps`] with the
/// model being trained, on the un-mixed batch.
#[derive(Debug, Clone)]
pub struct SnapMix {
    config: SnapMixConfig,
}

impl SnapMix {
    /// The configuration this mixer was built from.
    pub fn config(&self) -> &SnapMixConfig {
        &self.config
    }

    /// Draws the gate, `λ₁, λ₂ ~ Beta(β, β)`, π and the two box centres.
    pub fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<SnapMixParams, MixError> {
        batch.require_mixable()?;
        let mixing = rng.gate(self.config.prob);
        let (lam_a, lam_b) = if mixing {
            (rng.beta(self.config.beta), rng.beta(self.config.beta))
        } else {
            (1.0, 1.0)
        };
        let perm = self.config.pairing.draw(rng, batch.n);
        let destination = CutBox::sample(rng, batch.h, batch.w, lam_a);
        let source = CutBox::sample(rng, batch.h, batch.w, lam_b);
        Ok(SnapMixParams {
            perm,
            mixing,
            destination,
            source,
        })
    }

    /// Mixes a batch with given parameters and the pre-mix semantic percent maps.
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    /// - `labels`: `[N]`
    /// - `percent_maps`: `[N, H, W]`
    pub fn apply(
        &self,
        params: &SnapMixParams,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        percent_maps: Tensor<3>,
    ) -> Result<Mixed, MixError> {
        let batch = BatchShape::of_batch(&images, &labels)?;
        if percent_maps.dims() != [batch.n, batch.h, batch.w] {
            return Err(MixError::ShapeMismatch {
                what: "snapmix percent maps",
                expected: format!("[{}, {}, {}]", batch.n, batch.h, batch.w),
                got: format!("{:?}", percent_maps.dims()),
            });
        }
        let (a, b) = (params.destination, params.source);
        for (what, region) in [("destination box", a), ("source box", b)] {
            if region.y1() > batch.h || region.x1() > batch.w || params.perm.len() != batch.n {
                return Err(MixError::ShapeMismatch {
                    what: "snapmix parameters",
                    expected: format!(
                        "boxes inside {}×{} and a permutation of {}",
                        batch.h, batch.w, batch.n
                    ),
                    got: format!("{what} {region:?}, a permutation of {}", params.perm.len()),
                });
            }
        }
        let device = images.device();
        let perm = params.perm.to_tensor(&device);
        let y_b = labels.clone().select(0, perm.clone());
        if !params.mixing || a.is_empty() || b.is_empty() {
            let target = MixedTarget::pair(
                labels,
                y_b,
                Tensor::ones([batch.n], &device),
                Tensor::zeros([batch.n], &device),
            )?;
            return Ok(Mixed {
                images,
                target,
                perm,
            });
        }
        let patch = interpolate(
            images
                .clone()
                .slice(s![.., .., b.y0..b.y1(), b.x0..b.x1()])
                .select(0, perm.clone()),
            InterpolateOptions::new(InterpolateMode::Bilinear)
                .with_align_corners(true)
                .with_output_size([a.h, a.w]),
        );
        let images = images.slice_assign(s![.., .., a.y0..a.y1(), a.x0..a.x1()], patch);

        let mass = |maps: Tensor<3>, region: CutBox| -> Tensor<1> {
            let total = maps.clone().sum_dim(2).sum_dim(1).reshape([batch.n]);
            let inside = maps
                .slice(s![.., region.y0..region.y1(), region.x0..region.x1()])
                .sum_dim(2)
                .sum_dim(1)
                .reshape([batch.n]);
            inside / total.add_scalar(1e-8)
        };
        let w_a = mass(percent_maps.clone(), a).neg().add_scalar(1.0);
        let w_b = mass(percent_maps.select(0, perm.clone()), b);
        let same = labels.clone().equal(y_b.clone());
        let both = w_a.clone() + w_b.clone();
        let w_a = w_a.mask_where(same.clone(), both.clone());
        let w_b = w_b.mask_where(same, both);
        let kept = a.kept_fraction(batch.h, batch.w);
        let w_a = w_a.clone().mask_fill(w_a.is_nan(), kept);
        let w_b = w_b.clone().mask_fill(w_b.is_nan(), 1.0 - kept);
        let target = MixedTarget::pair(labels, y_b, w_a, w_b)?;
        Ok(Mixed {
            images,
            target,
            perm,
        })
    }
}

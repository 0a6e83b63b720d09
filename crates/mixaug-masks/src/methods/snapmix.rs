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
use crate::mixer::{Pairs, configured, open_pairs};
use crate::{
    BatchShape, CutBox, Guide, MixError, MixRng, Mixed, MixedTarget, Mixer, Needs, Pairing,
    Permutation,
};

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

    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("snapmix.beta", self.beta)?;
        check_probability("snapmix.prob", self.prob)
    }
}

configured! {
    SnapMix(SnapMixConfig) {
        with_beta => beta: f64,
        with_prob => prob: f64,
        with_pairing => pairing: Pairing,
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

impl Mixer for SnapMix {
    type Params = SnapMixParams;
    const NEEDS: Needs = Needs::PercentMaps;

    /// Draws the gate, `λ₁, λ₂ ~ Beta(β, β)`, π and the two box centres.
    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<SnapMixParams, MixError> {
        let c = &self.config;
        let ((mixing, lam_a, lam_b), perm) =
            open_pairs(rng, batch, c.prob, c.pairing, |rng, mixing| {
                if mixing {
                    (mixing, rng.beta(c.beta), rng.beta(c.beta))
                } else {
                    (mixing, 1.0, 1.0)
                }
            })?;
        let destination = CutBox::sample(rng, batch.h, batch.w, lam_a);
        let source = CutBox::sample(rng, batch.h, batch.w, lam_b);
        Ok(SnapMixParams {
            perm,
            mixing,
            destination,
            source,
        })
    }

    /// Mixes with the pre-mix semantic percent maps of [`Guide::PercentMaps`],
    /// `[N, H, W]`.
    fn apply(
        &self,
        params: &SnapMixParams,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let percent_maps = guide.percent_maps("snapmix")?.clone();
        let (pairs, images) = Pairs::check("snapmix parameters", images, labels, &params.perm, 1)?;
        let batch = pairs.batch;
        if percent_maps.dims() != [batch.n, batch.h, batch.w] {
            return Err(MixError::ShapeMismatch {
                what: "snapmix percent maps",
                expected: format!("[{}, {}, {}]", batch.n, batch.h, batch.w),
                got: format!("{:?}", percent_maps.dims()),
            });
        }
        let (a, b) = (params.destination, params.source);
        for (what, region) in [("destination box", a), ("source box", b)] {
            if region.y1() > batch.h || region.x1() > batch.w {
                return Err(MixError::ShapeMismatch {
                    what: "snapmix parameters",
                    expected: format!("boxes inside {}×{}", batch.h, batch.w),
                    got: format!("{what} {region:?}"),
                });
            }
        }
        if !params.mixing || a.is_empty() || b.is_empty() {
            return pairs.mixed(images, &[1.0]);
        }
        let device = pairs.device();
        let perm = params.perm.to_tensor(&device);
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
        let kept = a.kept_fraction(batch.h, batch.w);
        pairs.mixed_with(images, |labels, perm| {
            let y_b = labels.clone().select(0, perm.clone());
            let w_a = mass(percent_maps.clone(), a).neg().add_scalar(1.0);
            let w_b = mass(percent_maps.select(0, perm.clone()), b);
            let same = labels.clone().equal(y_b.clone());
            let both = w_a.clone() + w_b.clone();
            let w_a = w_a.mask_where(same.clone(), both.clone());
            let w_b = w_b.mask_where(same, both);
            let w_a = w_a.clone().mask_fill(w_a.is_nan(), kept);
            let w_b = w_b.clone().mask_fill(w_b.is_nan(), 1.0 - kept);
            MixedTarget::pair(labels, y_b, w_a, w_b)
        })
    }
}

//! SaliencyMix: a CutMix box centred on the partner's most salient pixel.
//!
//! Uddin, Monira, Shin, Chung, Bae, *SaliencyMix: A Saliency Guided Data Augmentation
//! Strategy for Better Regularization*, ICLR 2021. Reference code:
//! afm-shahab-uddin/SaliencyMix `SaliencyMix_CIFAR/saliencymix.py`; openmixup
//! `openmixup/models/augments/saliencymix.py`. Spec: METHODS.md §8 (box §0.3, saliency §9).

use burn::prelude::*;
use mixaug_maps::{PixelNormalization, SaliencyMap, host_saliency_maps, saliency_maps};
use serde::{Deserialize, Serialize};

use crate::error::{check_alpha, check_probability};
use crate::mixer::{Pairs, configured, open_pairs};
use crate::ops::paste_boxes;
use crate::{
    BatchShape, CutBox, Guide, MixError, MixRng, Mixed, Mixer, Needs, Pairing, Permutation,
};

/// Whose saliency places the box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaliencyPeaks {
    /// One box for the batch, centred on the peak of `x_π(0)`, the partner of sample 0
    /// (every reference). For `i ≠ 0` the pasted patch is not centred on its own partner's
    /// peak.
    #[default]
    FirstPartner,
    /// One box per sample, centred on the peak of that sample's own partner `x_π(i)`.
    PerSample,
}

/// Configuration of [`SaliencyMix`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SaliencyMixConfig {
    /// Concentration β of `λ ~ Beta(β, β)`. Default 1 (every reference). `β = 0` means
    /// λ = 1 (no mixing); `β < 0` is an error.
    pub beta: f64,
    /// Probability that a batch is mixed. Default 1 (ImageNet recipe, openmixup); the
    /// CIFAR recipe uses 0.5.
    pub prob: f64,
    /// Whose peak centres the box. Default: the reference's single box.
    pub peaks: SaliencyPeaks,
    /// How partners are chosen. Default: a random permutation (reference).
    pub pairing: Pairing,
    /// How the images were normalised, so their saliency is computed on the 8-bit pixels
    /// (METHODS.md §8, `SaliencyMode::Uint8`). Default: images in `[0, 1]`.
    pub normalization: PixelNormalization,
}

impl Default for SaliencyMixConfig {
    fn default() -> Self {
        Self {
            beta: 1.0,
            prob: 1.0,
            peaks: SaliencyPeaks::FirstPartner,
            pairing: Pairing::RandomPermutation,
            normalization: PixelNormalization::UNIT,
        }
    }
}

impl SaliencyMixConfig {
    /// The defaults: β = 1, prob = 1, the reference's single box, random permutation,
    /// images in `[0, 1]`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("saliencymix.beta", self.beta)?;
        check_probability("saliencymix.prob", self.prob)?;
        for (c, &s) in self.normalization.std.iter().enumerate() {
            let mean = self.normalization.mean[c];
            if !mean.is_finite() {
                return Err(MixError::InvalidHyperParameter {
                    name: "saliencymix.normalization.mean",
                    value: f64::from(mean),
                    expected: "a finite mean",
                });
            }
            if !(s.is_finite() && s > 0.0) {
                return Err(MixError::InvalidHyperParameter {
                    name: "saliencymix.normalization.std",
                    value: f64::from(s),
                    expected: "a positive finite standard deviation",
                });
            }
        }
        Ok(())
    }
}

configured! {
    SaliencyMix(SaliencyMixConfig) {
        with_beta => beta: f64,
        with_prob => prob: f64,
        with_peaks => peaks: SaliencyPeaks,
        with_pairing => pairing: Pairing,
        with_normalization => normalization: PixelNormalization,
    }
}

/// A pixel position: row `y`, column `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pixel {
    /// Row.
    pub y: usize,
    /// Column.
    pub x: usize,
}

/// What SaliencyMix draws for one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaliencyMixParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// λ drawn from `Beta(β, β)` (1 when the gate did not fire: nothing is mixed).
    pub sampled_lam: f64,
}

/// SaliencyMix: CutMix whose box is centred on the first (row-major) maximum of the
/// partner's fine-grained saliency map; the base label keeps `λ' = 1 − area/(HW)`.
///
/// Its guide is [`Guide::SaliencyPeaks`]: the peaks of the partners whose saliency places
/// the boxes, computed on the host from the batch before it is uploaded
/// ([`host_guide`](Self::host_guide)), or read back from a device batch
/// ([`guide`](Self::guide)) — never inside `apply`.
///
/// ```
/// use burn::prelude::*;
/// use mixaug_masks::{BatchShape, Mixer, MixRng, SaliencyMixConfig};
/// let device = Device::flex();
/// let shape = BatchShape::new(4, 3, 12, 16);
/// let host: Vec<f32> = (0..4 * 3 * 12 * 16).map(|k| (k % 7) as f32 / 7.0).collect();
/// let mixer = SaliencyMixConfig::new().init().unwrap();
/// let params = mixer.sample(&mut MixRng::from_seed(3), shape).unwrap();
/// let guide = mixer.host_guide(&params, &host, shape).unwrap();
/// let images = Tensor::<4>::from_data(TensorData::new(host, [4, 3, 12, 16]), &device);
/// let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 3], &device);
/// let mixed = mixer.apply(&params, images, labels, &guide).unwrap();
/// assert_eq!(mixed.images.dims(), [4, 3, 12, 16]);
/// ```
#[derive(Debug, Clone)]
pub struct SaliencyMix {
    config: SaliencyMixConfig,
}

impl SaliencyMix {
    /// The samples whose saliency places the boxes: `x_π(0)` only, or every `x_π(i)`.
    fn chosen(&self, perm: &Permutation) -> Vec<usize> {
        match self.config.peaks {
            SaliencyPeaks::FirstPartner => perm.as_slice().iter().copied().take(1).collect(),
            SaliencyPeaks::PerSample => perm.as_slice().to_vec(),
        }
    }

    /// The saliency peaks the boxes are centred on, of the device batch `images`: of
    /// `x_π(0)` only, or of every `x_π(i)` (the chosen images are read back and mapped on
    /// the host, METHODS.md §9).
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    pub fn peaks(&self, images: &Tensor<4>, perm: &Permutation) -> Result<Vec<Pixel>, MixError> {
        let n = images.dims()[0];
        if perm.len() != n {
            return Err(MixError::ShapeMismatch {
                what: "saliencymix partners",
                expected: format!("a permutation of the batch's {n} images"),
                got: format!("a permutation of {}", perm.len()),
            });
        }
        let partners = self.chosen(perm);
        let index = Tensor::<1, Int>::from_data(
            TensorData::new(
                partners.iter().map(|&i| i as i64).collect::<Vec<_>>(),
                [partners.len()],
            ),
            &images.device(),
        );
        let maps = saliency_maps(images.clone().select(0, index), &self.config.normalization);
        argmaxes(maps)
    }

    /// [`peaks`](Self::peaks) of a batch held on the host (NCHW values, e.g. a loader's
    /// batch before upload): only the chosen images are mapped.
    ///
    /// # Shapes
    /// - `images`: `N·C·H·W` values of a batch of shape `batch`
    pub fn host_peaks(
        &self,
        images: &[f32],
        batch: BatchShape,
        perm: &Permutation,
    ) -> Result<Vec<Pixel>, MixError> {
        let size = batch.c * batch.area();
        let partners = self.chosen(perm);
        if images.len() != batch.n * size || partners.iter().any(|&i| i >= batch.n) {
            return Err(MixError::ShapeMismatch {
                what: "saliencymix host batch",
                expected: format!("{} values and partners below {}", batch.n * size, batch.n),
                got: format!("{} values, partners {partners:?}", images.len()),
            });
        }
        let chosen: Vec<f32> = partners
            .iter()
            .flat_map(|&i| images[i * size..(i + 1) * size].iter().copied())
            .collect();
        let shape = [partners.len(), batch.c, batch.h, batch.w];
        argmaxes(host_saliency_maps(
            &chosen,
            shape,
            &self.config.normalization,
        ))
    }

    /// The guide of a batch held on the host: the peaks the boxes of `params` are centred
    /// on (none when nothing is mixed).
    ///
    /// # Shapes
    /// - `images`: `N·C·H·W` values of a batch of shape `batch`
    pub fn host_guide(
        &self,
        params: &SaliencyMixParams,
        images: &[f32],
        batch: BatchShape,
    ) -> Result<Guide, MixError> {
        let peaks = if params.sampled_lam >= 1.0 {
            Vec::new()
        } else {
            self.host_peaks(images, batch, &params.perm)?
        };
        Ok(Guide::SaliencyPeaks(peaks))
    }

    /// The guide of a device batch: [`host_guide`](Self::host_guide) with the chosen
    /// images read back.
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    pub fn guide(&self, params: &SaliencyMixParams, images: &Tensor<4>) -> Result<Guide, MixError> {
        let peaks = if params.sampled_lam >= 1.0 {
            Vec::new()
        } else {
            self.peaks(images, &params.perm)?
        };
        Ok(Guide::SaliencyPeaks(peaks))
    }
}

/// The first row-major maximum of each map.
fn argmaxes(maps: Result<Vec<SaliencyMap>, mixaug_maps::MapError>) -> Result<Vec<Pixel>, MixError> {
    let maps = maps.map_err(|e| MixError::Guide {
        method: "saliencymix",
        reason: e.to_string(),
    })?;
    Ok(maps
        .iter()
        .map(|m| {
            let (y, x) = m.argmax();
            Pixel { y, x }
        })
        .collect())
}

impl Mixer for SaliencyMix {
    type Params = SaliencyMixParams;
    const NEEDS: Needs = Needs::SaliencyPeaks;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<SaliencyMixParams, MixError> {
        let c = &self.config;
        let (sampled_lam, perm) = open_pairs(rng, batch, c.prob, c.pairing, |rng, mixing| {
            if mixing { rng.beta(c.beta) } else { 1.0 }
        })?;
        Ok(SaliencyMixParams { perm, sampled_lam })
    }

    /// Mixes with the peaks of [`Guide::SaliencyPeaks`] (one, or one per sample; any
    /// guide when λ = 1, as nothing is mixed).
    fn apply(
        &self,
        params: &SaliencyMixParams,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let (pairs, images) =
            Pairs::check("saliencymix parameters", images, labels, &params.perm, 1)?;
        let batch = pairs.batch;
        if params.sampled_lam >= 1.0 {
            return pairs.mixed(images, &[1.0]);
        }
        let peaks = guide.saliency_peaks("saliencymix")?;
        if peaks.len() != 1 && peaks.len() != batch.n {
            return Err(MixError::ShapeMismatch {
                what: "saliencymix peaks",
                expected: format!("1 or {} peak(s)", batch.n),
                got: format!("{} peak(s)", peaks.len()),
            });
        }
        if let Some(p) = peaks.iter().find(|p| p.y >= batch.h || p.x >= batch.w) {
            return Err(MixError::ShapeMismatch {
                what: "saliencymix peak",
                expected: format!("a pixel of a {}×{} image", batch.h, batch.w),
                got: format!("({}, {})", p.y, p.x),
            });
        }
        let regions: Vec<CutBox> = peaks
            .iter()
            .map(|p| CutBox::around(batch.h, batch.w, params.sampled_lam, p.y, p.x))
            .collect();
        let images = paste_boxes(images, pairs.partners(), &regions);
        let w_a: Vec<f64> = regions
            .iter()
            .map(|b| b.kept_fraction(batch.h, batch.w))
            .collect();
        pairs.mixed(images, &w_a)
    }
}

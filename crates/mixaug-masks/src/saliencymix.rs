//! SaliencyMix: a CutMix box centred on the partner's most salient pixel.
//!
//! Uddin, Monira, Shin, Chung, Bae, *SaliencyMix: A Saliency Guided Data Augmentation
//! Strategy for Better Regularization*, ICLR 2021. Reference code:
//! afm-shahab-uddin/SaliencyMix `SaliencyMix_CIFAR/saliencymix.py`; openmixup
//! `openmixup/models/augments/saliencymix.py`. Spec: METHODS.md §8 (box §0.3, saliency §9).

use burn::prelude::*;
use mixaug_maps::{PixelNormalization, saliency_maps};
use serde::{Deserialize, Serialize};

use crate::cutmix::paste_boxes;
use crate::error::{check_alpha, check_probability};
use crate::mixer::pair_target;
use crate::{BatchShape, CutBox, MixError, MixRng, Mixed, Mixer, Pairing, Permutation};

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
    /// Sets [`peaks`](Self::peaks).
    pub fn with_peaks(mut self, peaks: SaliencyPeaks) -> Self {
        self.peaks = peaks;
        self
    }
    /// Sets [`pairing`](Self::pairing).
    pub fn with_pairing(mut self, pairing: Pairing) -> Self {
        self.pairing = pairing;
        self
    }
    /// Sets [`normalization`](Self::normalization).
    pub fn with_normalization(mut self, normalization: PixelNormalization) -> Self {
        self.normalization = normalization;
        self
    }

    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("saliencymix.beta", self.beta)?;
        check_probability("saliencymix.prob", self.prob)?;
        for (c, &s) in self.normalization.std.iter().enumerate() {
            if !(s.is_finite() && s > 0.0 && self.normalization.mean[c].is_finite()) {
                return Err(MixError::InvalidHyperParameter {
                    name: "saliencymix.normalization",
                    value: f64::from(s),
                    expected: "finite means and positive finite standard deviations",
                });
            }
        }
        Ok(())
    }

    /// A validated [`SaliencyMix`].
    pub fn init(&self) -> Result<SaliencyMix, MixError> {
        self.validate()?;
        Ok(SaliencyMix {
            config: self.clone(),
        })
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
    /// Box centres (one, or one per sample). `None`: computed from the partners'
    /// saliency when the batch is applied; given: used as they are (tests, replays).
    pub peaks: Option<Vec<Pixel>>,
}

/// SaliencyMix: CutMix whose box is centred on the first (row-major) maximum of the
/// partner's fine-grained saliency map; the base label keeps `λ' = 1 − area/(HW)`.
///
/// ```
/// use burn::prelude::*;
/// use mixaug_masks::{Mixer, MixRng, SaliencyMixConfig};
/// let device = Device::flex();
/// let images = Tensor::<4>::random([4, 3, 12, 16], burn::tensor::Distribution::Default, &device);
/// let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 3], &device);
/// let mixer = SaliencyMixConfig::new().init().unwrap();
/// let mixed = mixer.mix(&mut MixRng::from_seed(3), images, labels).unwrap();
/// assert_eq!(mixed.images.dims(), [4, 3, 12, 16]);
/// ```
#[derive(Debug, Clone)]
pub struct SaliencyMix {
    config: SaliencyMixConfig,
}

impl SaliencyMix {
    /// The configuration this mixer was built from.
    pub fn config(&self) -> &SaliencyMixConfig {
        &self.config
    }

    /// The saliency peaks the boxes are centred on: of `x_π(0)` only, or of every
    /// `x_π(i)` (the only host round trip of the method: the chosen images are read back
    /// and mapped on the host, METHODS.md §9).
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    pub fn peaks(&self, images: &Tensor<4>, perm: &Permutation) -> Result<Vec<Pixel>, MixError> {
        let partners: Vec<usize> = match self.config.peaks {
            SaliencyPeaks::FirstPartner => vec![perm.as_slice()[0]],
            SaliencyPeaks::PerSample => perm.as_slice().to_vec(),
        };
        let device = images.device();
        let index = Tensor::<1, Int>::from_data(
            TensorData::new(
                partners.iter().map(|&i| i as i64).collect::<Vec<_>>(),
                [partners.len()],
            ),
            &device,
        );
        let maps = saliency_maps(images.clone().select(0, index), &self.config.normalization)
            .map_err(|e| MixError::Guide {
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
}

impl Mixer for SaliencyMix {
    type Params = SaliencyMixParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<SaliencyMixParams, MixError> {
        batch.require_mixable()?;
        let sampled_lam = if rng.gate(self.config.prob) {
            rng.beta(self.config.beta)
        } else {
            1.0
        };
        let perm = self.config.pairing.draw(rng, batch.n);
        Ok(SaliencyMixParams {
            perm,
            sampled_lam,
            peaks: None,
        })
    }

    fn apply(
        &self,
        params: &SaliencyMixParams,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    ) -> Result<Mixed, MixError> {
        let batch = BatchShape::of_batch(&images, &labels)?;
        if params.perm.len() != batch.n {
            return Err(MixError::ShapeMismatch {
                what: "saliencymix parameters",
                expected: format!("a permutation of {}", batch.n),
                got: format!("a permutation of {}", params.perm.len()),
            });
        }
        let peaks = match &params.peaks {
            _ if params.sampled_lam >= 1.0 => vec![Pixel { y: 0, x: 0 }],
            Some(p) if p.len() == 1 || p.len() == batch.n => p.clone(),
            Some(p) => {
                return Err(MixError::ShapeMismatch {
                    what: "saliencymix peaks",
                    expected: format!("1 or {} peak(s)", batch.n),
                    got: format!("{} peak(s)", p.len()),
                });
            }
            None => self.peaks(&images, &params.perm)?,
        };
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
        let device = images.device();
        let perm = params.perm.to_tensor(&device);
        let images = paste_boxes(images, &params.perm, &regions);
        let w_a: Vec<f64> = regions
            .iter()
            .map(|b| b.kept_fraction(batch.h, batch.w))
            .collect();
        let target = pair_target(labels, params.perm.as_slice(), &w_a)?;
        Ok(Mixed {
            images,
            target,
            perm,
        })
    }
}

//! FMix: a binary mask thresholded from low-frequency Fourier noise.
//!
//! Harris, Marcu, Painter, Niranjan, Prügel-Bennett, Hare, *FMix: Enhancing Mixed Sample
//! Data Augmentation*, arXiv 2002.12047, 2020. Reference code: ecs-vlc/FMix `fmix.py`
//! (identical copy in openmixup/SUMix). Spec: METHODS.md §6.
//!
//! The grey image and its mask are drawn on the host (a 2-D inverse real FFT with
//! `rustfft`); the mask is applied on the device.

use burn::prelude::*;
use rustfft::{FftPlanner, num_complex::Complex};
use serde::{Deserialize, Serialize};

use crate::error::{check_alpha, check_probability};
use crate::mixer::{Pairs, configured, open_pairs};
use crate::ops::{Mask, Source, blend};
use crate::{BatchShape, Guide, MixError, MixRng, Mixed, Mixer, Pairing, Permutation};

/// Configuration of [`FMix`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FMixConfig {
    /// Concentration α of `λ ~ Beta(α, α)`. Default 1 (FMix paper); SUMix tables 0.2.
    pub alpha: f64,
    /// Decay power δ of the spectrum `1/f^δ`. Default 3.
    pub decay_power: f64,
    /// Half-width of the soft band around the threshold, as a fraction of the pixels
    /// (clipped to `min(λ, 1 − λ)`). Default 0: a binary mask.
    pub max_soft: f64,
    /// Probability that a batch is mixed. Default 1.
    pub prob: f64,
    /// How partners are chosen. Default: a random permutation (reference).
    pub pairing: Pairing,
}

impl Default for FMixConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            decay_power: 3.0,
            max_soft: 0.0,
            prob: 1.0,
            pairing: Pairing::RandomPermutation,
        }
    }
}

impl FMixConfig {
    /// The defaults (see the fields).
    pub fn new() -> Self {
        Self::default()
    }
    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("fmix.alpha", self.alpha)?;
        check_probability("fmix.prob", self.prob)?;
        if !(self.decay_power.is_finite() && self.decay_power > 0.0) {
            return Err(MixError::InvalidHyperParameter {
                name: "fmix.decay_power",
                value: self.decay_power,
                expected: "a positive decay power δ",
            });
        }
        if !(0.0..=0.5).contains(&self.max_soft) {
            return Err(MixError::InvalidHyperParameter {
                name: "fmix.max_soft",
                value: self.max_soft,
                expected: "a fraction in [0, 0.5]",
            });
        }
        Ok(())
    }
}

configured! {
    FMix(FMixConfig) {
        with_alpha => alpha: f64,
        with_decay_power => decay_power: f64,
        with_max_soft => max_soft: f64,
        with_pairing => pairing: Pairing,
    }
}

/// What FMix draws for one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FMixParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// The sampled λ (the base label's weight).
    pub lam: f64,
    /// Number of pixels set to 1 (`⌈λHW⌉` or `⌊λHW⌋` by a fair coin).
    pub ones: usize,
    /// The min-max normalised low-frequency grey image, `H·W` row-major.
    pub grey: Vec<f32>,
    /// The mask (1 keeps the base image), `H·W` row-major.
    pub mask: Vec<f32>,
}

/// FMix: `x̃_i = M ⊙ x_i + (1 − M) ⊙ x_π(i)` with one mask for the batch, shared by the
/// channels; the label weight is the sampled λ (not the mask mean).
#[derive(Debug, Clone)]
pub struct FMix {
    config: FMixConfig,
}

/// `numpy.fft.fftfreq(n)`: `[0, 1, …, ⌈n/2⌉−1, −⌊n/2⌋, …, −1] / n`.
fn fftfreq(n: usize, i: usize) -> f64 {
    let k = if i < n.div_ceil(2) {
        i as f64
    } else {
        i as f64 - n as f64
    };
    k / n as f64
}

/// The low-frequency grey image of §6 (steps 1–5), min-max normalised to [0, 1].
pub fn fourier_grey(rng: &mut MixRng, h: usize, w: usize, decay_power: f64) -> Vec<f32> {
    let half = w / 2 + 1;
    let floor = 1.0 / h.max(w) as f64;
    // Half spectrum, column-major per frequency column for the first (row) transform.
    let mut spectrum = vec![Complex::new(0.0f64, 0.0); h * half];
    for i in 0..h {
        for j in 0..half {
            let f = (fftfreq(h, i).powi(2) + (j as f64 / w as f64).powi(2)).sqrt();
            let scale = 1.0 / f.max(floor).powf(decay_power);
            let (a, b) = (rng.normal(), rng.normal());
            spectrum[j * h + i] = Complex::new(scale * a, scale * b);
        }
    }
    let mut planner = FftPlanner::<f64>::new();
    planner.plan_fft_inverse(h).process(&mut spectrum);
    // Each row: Hermitian extension to length W, complex inverse, real part (= irfft).
    let row_fft = planner.plan_fft_inverse(w);
    let mut grey = Vec::with_capacity(h * w);
    let mut row = vec![Complex::new(0.0, 0.0); w];
    for i in 0..h {
        for (j, v) in row.iter_mut().enumerate() {
            *v = if j < half {
                spectrum[j * h + i]
            } else {
                spectrum[(w - j) * h + i].conj()
            };
        }
        row_fft.process(&mut row);
        grey.extend(row.iter().map(|v| v.re));
    }
    let (lo, hi) = grey
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, u), &v| {
            (l.min(v), u.max(v))
        });
    let span = if hi > lo { hi - lo } else { 1.0 };
    grey.iter().map(|&v| ((v - lo) / span) as f32).collect()
}

/// §6 binarisation: the `ones` largest grey pixels get 1, the rest 0; with a soft band of
/// `soft` ranks on each side of the threshold replaced by a linear ramp from 1 to 0.
pub fn binarise(grey: &[f32], ones: usize, soft: usize) -> Vec<f32> {
    let mut order: Vec<usize> = (0..grey.len()).collect();
    // Descending, ties broken by the later index first (numpy's argsort()[::-1]). Only the
    // set of the `low` first ranks and the order inside the soft band matter, so two
    // linear-time partitions replace a full sort.
    let rank = |a: &usize, b: &usize| grey[*b].total_cmp(&grey[*a]).then(b.cmp(a));
    let low = ones.saturating_sub(soft);
    let high = (ones + soft).min(grey.len());
    if low > 0 && low < order.len() {
        order.select_nth_unstable_by(low, rank);
    }
    let band_slice = &mut order[low..];
    if high - low > 0 {
        if high - low < band_slice.len() {
            band_slice.select_nth_unstable_by(high - low, rank);
        }
        band_slice[..high - low].sort_by(rank);
    }
    let mut mask = vec![0.0f32; grey.len()];
    for &p in &order[..low] {
        mask[p] = 1.0;
    }
    let band = high - low;
    for (r, &p) in order[low..high].iter().enumerate() {
        // numpy.linspace(1, 0, band)
        mask[p] = if band == 1 {
            1.0
        } else {
            1.0 - r as f32 / (band - 1) as f32
        };
    }
    mask
}

impl Mixer for FMix {
    type Params = FMixParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<Self::Params, MixError> {
        batch.require_size("fmix", 2, 2)?;
        let c = &self.config;
        let ((lam, ones, grey, mask), perm) =
            open_pairs(rng, batch, c.prob, c.pairing, |rng, mixing| {
                let lam = if mixing { rng.beta(c.alpha) } else { 1.0 };
                let pixels = batch.area();
                let grey = fourier_grey(rng, batch.h, batch.w, c.decay_power);
                let exact = lam * pixels as f64;
                let ones = if rng.uniform() > 0.5 {
                    exact.ceil()
                } else {
                    exact.floor()
                } as usize;
                let soft_fraction = c.max_soft.min(lam).min(1.0 - lam);
                let soft = (pixels as f64 * soft_fraction) as usize;
                let mask = binarise(&grey, ones.min(pixels), soft);
                (lam, ones, grey, mask)
            })?;
        Ok(FMixParams {
            perm,
            lam,
            ones,
            grey,
            mask,
        })
    }

    fn apply(
        &self,
        params: &Self::Params,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        _guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let (pairs, images) = Pairs::check("fmix parameters", images, labels, &params.perm, 1)?;
        let b = pairs.batch;
        if params.mask.len() != b.area() {
            return Err(MixError::ShapeMismatch {
                what: "fmix mask",
                expected: format!("{} values ({}×{})", b.area(), b.h, b.w),
                got: format!("{} values", params.mask.len()),
            });
        }
        let images = if params.mask.iter().all(|&m| m == 1.0) {
            images
        } else {
            // One mask for the whole batch: the base image's weight.
            let keep = Mask::Tensor {
                weights: Tensor::from_data(
                    TensorData::new(params.mask.clone(), [1, 1, b.h, b.w]),
                    &pairs.device(),
                ),
                hard: params.mask.iter().all(|&m| m == 0.0 || m == 1.0),
            };
            blend(images, Source::Partner(pairs.partners()), &keep)
        };
        pairs.mixed(images, &[params.lam])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fftfreq_matches_numpy() {
        let f: Vec<f64> = (0..5).map(|i| fftfreq(5, i)).collect();
        assert_eq!(f, vec![0.0, 0.2, 0.4, -0.4, -0.2]);
        let f: Vec<f64> = (0..4).map(|i| fftfreq(4, i)).collect();
        assert_eq!(f, vec![0.0, 0.25, -0.5, -0.25]);
    }

    #[test]
    fn grey_is_normalised_and_smooth() {
        let mut rng = MixRng::from_seed(3);
        let g = fourier_grey(&mut rng, 32, 40, 3.0);
        assert_eq!(g.len(), 32 * 40);
        let (lo, hi) = g
            .iter()
            .fold((1.0f32, 0.0f32), |(l, u), &v| (l.min(v), u.max(v)));
        assert_eq!((lo, hi), (0.0, 1.0));
        // Low frequencies dominate: neighbouring pixels differ far less than the range.
        let mean_step = g.windows(2).map(|p| (p[0] - p[1]).abs()).sum::<f32>() / g.len() as f32;
        assert!(mean_step < 0.05, "{mean_step}");
    }

    #[test]
    fn binarise_is_the_top_k_indicator() {
        let grey = [0.1, 0.9, 0.5, 0.7, 0.3];
        assert_eq!(binarise(&grey, 2, 0), vec![0.0, 1.0, 0.0, 1.0, 0.0]);
        assert_eq!(binarise(&grey, 0, 0), vec![0.0; 5]);
        // soft = 1 around k = 2: ranks 0 → 1; ranks 1, 2 → ramp (1, 0).
        assert_eq!(binarise(&grey, 2, 1), vec![0.0, 1.0, 0.0, 1.0, 0.0]);
        assert_eq!(binarise(&grey, 3, 1), vec![0.0, 1.0, 1.0, 1.0, 0.0]);
        let soft = binarise(&grey, 2, 2); // band ranks 0..4: 1, 2/3, 1/3, 0
        let expected = [0.0, 1.0, 1.0 / 3.0, 2.0 / 3.0, 0.0];
        for (got, want) in soft.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{soft:?}");
        }
    }

    #[test]
    fn mask_counts_and_both_coin_branches() {
        let fmix = FMixConfig::new().init().unwrap();
        let (mut ceil, mut floor) = (0, 0);
        for seed in 0..40 {
            let p = fmix
                .sample(&mut MixRng::from_seed(seed), BatchShape::new(2, 3, 9, 13))
                .unwrap();
            let total = p.mask.iter().sum::<f32>() as usize;
            let exact = p.lam * 117.0;
            assert_eq!(total, p.ones);
            assert!(total == exact.floor() as usize || total == exact.ceil() as usize);
            if exact.fract() != 0.0 {
                if total == exact.ceil() as usize {
                    ceil += 1
                } else {
                    floor += 1
                }
            }
            // The mask is exactly the indicator of the top-k of its grey image.
            let threshold = p
                .grey
                .iter()
                .zip(&p.mask)
                .filter(|(_, m)| **m == 1.0)
                .map(|(g, _)| *g)
                .fold(f32::INFINITY, f32::min);
            for (g, m) in p.grey.iter().zip(&p.mask) {
                if *g > threshold {
                    assert_eq!(*m, 1.0)
                }
                if *g < threshold {
                    assert_eq!(*m, 0.0)
                }
            }
        }
        assert!(ceil > 5 && floor > 5, "ceil {ceil}, floor {floor}");
    }
}

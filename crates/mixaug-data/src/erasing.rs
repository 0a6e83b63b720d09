//! [`RandomErasing`]: openmixup's `RandomErasing_numpy` — Zhong et al., "Random Erasing
//! Data Augmentation", AAAI 2020; reference code openmixup
//! `openmixup/datasets/pipelines/transforms.py`.

use serde::{Deserialize, Serialize};

use crate::{DataError, DataRng, ImageU8};

/// What fills an erased box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum ErasingFill {
    /// One colour (`mode='const'`), per channel.
    Constant {
        /// The colour.
        color: [u8; 3],
    },
    /// Every value drawn from `N(mean[c], std[c])`, truncated toward zero and clipped to
    /// `0..=255` (`mode='rand'` with `fill_std`).
    Gaussian {
        /// Channel means.
        mean: [f64; 3],
        /// Channel standard deviations (≥ 0).
        std: [f64; 3],
    },
    /// Every value uniform in `0..=255` (`mode='rand'` without `fill_std`).
    Uniform,
}

/// An erased region: rows `y0..y0 + h`, columns `x0..x0 + w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EraseBox {
    /// First row.
    pub y0: usize,
    /// First column.
    pub x0: usize,
    /// Rows.
    pub h: usize,
    /// Columns.
    pub w: usize,
}

/// openmixup's `RandomErasing_numpy`, on the 8-bit image before normalisation; the
/// defaults are the DeiT-S CIFAR-100 recipe's.
///
/// Random Erasing: Zhong et al., "Random Erasing Data Augmentation", AAAI 2020. Reference
/// code: openmixup `openmixup/datasets/pipelines/transforms.py` (`RandomErasing_numpy`,
/// after mmclassification), configured by the DeiT-S CIFAR-100 recipe
/// (`configs/classification/_base_/datasets/cifar100/sz224_swin_bs100.py`):
/// `erase_prob=0.25, mode='rand', min_area_ratio=0.02, max_area_ratio=1/3,
/// fill_color=[114, 123, 125], fill_std=[52, 51, 51]` (aspect range left at its default
/// `(3/10, 10/3)`).
///
/// One attempt per image, no retries (unlike timm's `RandomErasing`): with probability
/// `prob`, an aspect ratio `r` log-uniform in `aspect` and an area `A` uniform in
/// `area × H·W` give the box `h = min(round(√(A·r)), H)`, `w = min(round(√(A/r)), W)`
/// (rounded half to even); its top is uniform in `0..H − h` *excluding* `H − h` (numpy's
/// `randint(0, H − h)`; 0 when `h = H`), its left likewise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomErasing {
    /// Probability of erasing (`erase_prob`). Default 0.25.
    pub prob: f64,
    /// Range of the erased fraction of the image area (`min_area_ratio`,
    /// `max_area_ratio`). Default `[0.02, 1/3]`.
    pub area: [f64; 2],
    /// Range of the box's height/width ratio, sampled log-uniformly (`aspect_range`).
    /// Default `[0.3, 10/3]`.
    pub aspect: [f64; 2],
    /// The fill. Default Gaussian, mean `[114, 123, 125]`, std `[52, 51, 51]`.
    pub fill: ErasingFill,
}

impl Default for RandomErasing {
    fn default() -> Self {
        Self {
            prob: 0.25,
            area: [0.02, 1.0 / 3.0],
            aspect: [0.3, 10.0 / 3.0],
            fill: ErasingFill::Gaussian {
                mean: [114.0, 123.0, 125.0],
                std: [52.0, 51.0, 51.0],
            },
        }
    }
}

fn invalid(name: &'static str, reason: String) -> DataError {
    DataError::InvalidOption { name, reason }
}

impl RandomErasing {
    /// Rejects a probability outside `[0, 1]`, an area range not within `[0, 1]` with
    /// `lo ≤ hi`, a non-positive or reversed aspect range, or a negative standard
    /// deviation.
    pub fn validate(&self) -> Result<(), DataError> {
        if !(0.0..=1.0).contains(&self.prob) {
            return Err(invalid(
                "random_erasing.prob",
                format!("{} is not in [0, 1]", self.prob),
            ));
        }
        let [lo, hi] = self.area;
        if !(0.0 <= lo && lo <= hi && hi <= 1.0) {
            return Err(invalid(
                "random_erasing.area",
                format!("{:?} must satisfy 0 ≤ lo ≤ hi ≤ 1", self.area),
            ));
        }
        let [lo, hi] = self.aspect;
        if !(0.0 < lo && lo <= hi && hi.is_finite()) {
            return Err(invalid(
                "random_erasing.aspect",
                format!("{:?} must satisfy 0 < lo ≤ hi", self.aspect),
            ));
        }
        match &self.fill {
            ErasingFill::Gaussian { mean, std } => {
                if mean.iter().chain(std).all(|v| v.is_finite()) && std.iter().all(|s| *s >= 0.0) {
                    Ok(())
                } else {
                    Err(invalid(
                        "random_erasing.fill",
                        format!("mean {mean:?} and std {std:?} must be finite, std ≥ 0"),
                    ))
                }
            }
            ErasingFill::Constant { .. } | ErasingFill::Uniform => Ok(()),
        }
    }

    /// Draws whether and where an `height × width` image is erased (the coin, the aspect
    /// ratio, the area, the top, the left — the reference's order).
    pub fn sample_box(&self, height: usize, width: usize, rng: &mut DataRng) -> Option<EraseBox> {
        if rng.uniform() > self.prob {
            return None;
        }
        // numpy takes the logarithms of a float32 array.
        let (log_lo, log_hi) = (
            f64::from((self.aspect[0] as f32).ln()),
            f64::from((self.aspect[1] as f32).ln()),
        );
        let aspect = (log_lo + (log_hi - log_lo) * rng.uniform()).exp();
        let fraction = self.area[0] + (self.area[1] - self.area[0]) * rng.uniform();
        let area = (height * width) as f64 * fraction;
        let h = ((area * aspect).sqrt().round_ties_even() as usize).min(height);
        let w = ((area / aspect).sqrt().round_ties_even() as usize).min(width);
        let y0 = if height > h { rng.below(height - h) } else { 0 };
        let x0 = if width > w { rng.below(width - w) } else { 0 };
        Some(EraseBox { y0, x0, h, w })
    }

    /// Erases one box (or nothing) of the image.
    ///
    /// # Shapes
    /// An `H × W × C` image in, the same shape out.
    pub fn apply(&self, mut image: ImageU8, rng: &mut DataRng) -> ImageU8 {
        let Some(b) = self.sample_box(image.height, image.width, rng) else {
            return image;
        };
        let c = image.channels;
        for y in b.y0..b.y0 + b.h {
            for x in b.x0..b.x0 + b.w {
                for ch in 0..c {
                    let k = ch.min(2);
                    image.pixels[(y * image.width + x) * c + ch] = match &self.fill {
                        ErasingFill::Constant { color } => color[k],
                        // `astype(np.int32)` truncates toward zero, then the clip.
                        ErasingFill::Gaussian { mean, std } => {
                            ((mean[k] + std[k] * rng.normal()) as i32).clamp(0, 255) as u8
                        }
                        // `np.random.uniform(0, 256).astype(np.uint8)`.
                        ErasingFill::Uniform => (rng.uniform() * 256.0) as u8,
                    };
                }
            }
        }
        image
    }
}

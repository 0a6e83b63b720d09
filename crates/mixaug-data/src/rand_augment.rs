//! [`RandAugment`]: openmixup's RandAugment with the FixMatch policy list — Cubuk et al.,
//! "RandAugment: Practical automated data augmentation with a reduced search space",
//! NeurIPS 2020; reference code openmixup `openmixup/datasets/pipelines/auto_augment.py`.

use serde::{Deserialize, Serialize};

use crate::ops::{self, Axis};
use crate::{DataError, DataRng, ImageU8};

/// One entry of openmixup's `fixmatch_augment_policies`, in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// `AutoContrast`.
    AutoContrast,
    /// `Brightness`, magnitude in `(0.05, 0.95)`, signed; factor `1 ± m`.
    Brightness,
    /// `ColorTransform`, magnitude in `(0.05, 0.95)`, signed; factor `1 ± m`.
    Color,
    /// `Contrast`, magnitude in `(0.05, 0.95)`, signed; factor `1 ± m`.
    Contrast,
    /// `Equalize`.
    Equalize,
    /// `Identity` (never changes the image, draws nothing when applied).
    Identity,
    /// `Posterize`, bits in `(4, 8)`, truncated to an integer.
    Posterize,
    /// `Rotate`, angle in `(0, 30)` degrees, signed.
    Rotate,
    /// `Sharpness`, magnitude in `(0.05, 0.95)`, signed; factor `1 ± m`.
    Sharpness,
    /// `Shear` horizontal, magnitude in `(0, 0.3)`, signed.
    ShearX,
    /// `Shear` vertical, magnitude in `(0, 0.3)`, signed.
    ShearY,
    /// `Solarize`, threshold in `(256, 0)` (level 0 → 256: no change).
    Solarize,
    /// `Translate` horizontal, fraction of the width in `(0, 0.3)`, signed.
    TranslateX,
    /// `Translate` vertical, fraction of the height in `(0, 0.3)`, signed.
    TranslateY,
}

impl Policy {
    /// The 14 policies, in `fixmatch_augment_policies`' order (the order the uniform draw
    /// indexes).
    pub const ALL: [Policy; 14] = [
        Policy::AutoContrast,
        Policy::Brightness,
        Policy::Color,
        Policy::Contrast,
        Policy::Equalize,
        Policy::Identity,
        Policy::Posterize,
        Policy::Rotate,
        Policy::Sharpness,
        Policy::ShearX,
        Policy::ShearY,
        Policy::Solarize,
        Policy::TranslateX,
        Policy::TranslateY,
    ];

    /// `magnitude_range` (`val1`, `val2`; `val1 > val2` for Solarize), `None` for the ops
    /// without a magnitude.
    pub fn range(self) -> Option<(f64, f64)> {
        match self {
            Policy::AutoContrast | Policy::Equalize | Policy::Identity => None,
            Policy::Brightness | Policy::Color | Policy::Contrast | Policy::Sharpness => {
                Some((0.05, 0.95))
            }
            Policy::Posterize => Some((4.0, 8.0)),
            Policy::Rotate => Some((0.0, 30.0)),
            Policy::ShearX | Policy::ShearY | Policy::TranslateX | Policy::TranslateY => {
                Some((0.0, 0.3))
            }
            Policy::Solarize => Some((256.0, 0.0)),
        }
    }

    /// Whether the op negates its magnitude with probability 0.5 (`random_negative_prob`).
    pub fn signed(self) -> bool {
        match self {
            Policy::Brightness
            | Policy::Color
            | Policy::Contrast
            | Policy::Sharpness
            | Policy::Rotate
            | Policy::ShearX
            | Policy::ShearY
            | Policy::TranslateX
            | Policy::TranslateY => true,
            Policy::AutoContrast
            | Policy::Equalize
            | Policy::Identity
            | Policy::Posterize
            | Policy::Solarize => false,
        }
    }

    /// The op with its final argument (`value`: the mapped magnitude, signed already;
    /// ignored by the ops without one).
    fn with(self, value: f64) -> AugmentOp {
        match self {
            Policy::AutoContrast => AugmentOp::AutoContrast,
            Policy::Equalize => AugmentOp::Equalize,
            Policy::Identity => AugmentOp::Identity,
            Policy::Brightness => AugmentOp::Brightness {
                factor: 1.0 + value,
            },
            Policy::Color => AugmentOp::Color {
                factor: 1.0 + value,
            },
            Policy::Contrast => AugmentOp::Contrast {
                factor: 1.0 + value,
            },
            Policy::Sharpness => AugmentOp::Sharpness {
                factor: 1.0 + value,
            },
            // `Posterize.__init__`: `self.bits = int(bits)`.
            Policy::Posterize => AugmentOp::Posterize { bits: value as u32 },
            Policy::Solarize => AugmentOp::Solarize { threshold: value },
            Policy::Rotate => AugmentOp::Rotate { degrees: value },
            Policy::ShearX => AugmentOp::Shear {
                axis: Axis::Horizontal,
                magnitude: value,
            },
            Policy::ShearY => AugmentOp::Shear {
                axis: Axis::Vertical,
                magnitude: value,
            },
            Policy::TranslateX => AugmentOp::Translate {
                axis: Axis::Horizontal,
                fraction: value,
            },
            Policy::TranslateY => AugmentOp::Translate {
                axis: Axis::Vertical,
                fraction: value,
            },
        }
    }
}

/// An op with everything random already drawn: what [`RandAugment::sample`] returns and
/// [`AugmentOp::apply`] replays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AugmentOp {
    /// No change.
    Identity,
    /// [`ops::auto_contrast`].
    AutoContrast,
    /// [`ops::equalize`].
    Equalize,
    /// [`ops::adjust_brightness`] with this factor.
    Brightness {
        /// `1 ± magnitude`.
        factor: f64,
    },
    /// [`ops::adjust_color`] with this factor.
    Color {
        /// `1 ± magnitude`.
        factor: f64,
    },
    /// [`ops::adjust_contrast`] with this factor.
    Contrast {
        /// `1 ± magnitude`.
        factor: f64,
    },
    /// [`ops::adjust_sharpness`] with this factor.
    Sharpness {
        /// `1 ± magnitude`.
        factor: f64,
    },
    /// [`ops::posterize`] to this many bits.
    Posterize {
        /// Bits kept.
        bits: u32,
    },
    /// [`ops::solarize`] above this threshold.
    Solarize {
        /// Values at or above it are inverted.
        threshold: f64,
    },
    /// [`ops::rotate`] clockwise by this angle.
    Rotate {
        /// Degrees (negative: anticlockwise).
        degrees: f64,
    },
    /// [`ops::shear`].
    Shear {
        /// The direction.
        axis: Axis,
        /// The shear factor.
        magnitude: f64,
    },
    /// [`ops::translate`] by `fraction` of the side along `axis`.
    Translate {
        /// The direction.
        axis: Axis,
        /// Offset as a fraction of the width (horizontal) or height (vertical).
        fraction: f64,
    },
}

impl AugmentOp {
    /// Applies the op; `fill` is the border colour of the warps.
    ///
    /// # Shapes
    /// An `H × W × C` image in, the same shape out.
    pub fn apply(&self, image: &ImageU8, fill: [u8; 3]) -> ImageU8 {
        match *self {
            AugmentOp::Identity => image.clone(),
            AugmentOp::AutoContrast => ops::auto_contrast(image),
            AugmentOp::Equalize => ops::equalize(image),
            AugmentOp::Brightness { factor } => ops::adjust_brightness(image, factor),
            AugmentOp::Color { factor } => ops::adjust_color(image, factor),
            AugmentOp::Contrast { factor } => ops::adjust_contrast(image, factor),
            AugmentOp::Sharpness { factor } => ops::adjust_sharpness(image, factor),
            AugmentOp::Posterize { bits } => ops::posterize(image, bits),
            AugmentOp::Solarize { threshold } => ops::solarize(image, threshold),
            AugmentOp::Rotate { degrees } => ops::rotate(image, degrees, fill),
            AugmentOp::Shear { axis, magnitude } => ops::shear(image, magnitude, axis, fill),
            AugmentOp::Translate { axis, fraction } => {
                // mmcv's `Translate`: `offset = magnitude * width` (or height).
                let side = match axis {
                    Axis::Horizontal => image.width,
                    Axis::Vertical => image.height,
                };
                ops::translate(image, fraction * side as f64, axis, fill)
            }
        }
    }
}

/// openmixup's `RandAugment` over the FixMatch policies, as the CIFAR-100 ViT recipes of
/// openmixup and SUMix configure it. The defaults are the DeiT-S recipe's
/// (`rand-m9-mstd0.5` in openmixup's naming); the Swin-T recipe uses `magnitude = 7`.
///
/// RandAugment: Cubuk et al., "RandAugment: Practical automated data augmentation with a
/// reduced search space", NeurIPS 2020. Reference code: openmixup
/// `openmixup/datasets/pipelines/auto_augment.py` (`RandAugment`, after mmclassification,
/// and the op classes), configured by `configs/classification/_base_/datasets/cifar100/
/// sz224_swin_bs100.py` (JinXins/SUMix at 0469ec2, identical in Westlake-AI/openmixup):
/// `policies=fixmatch_augment_policies, num_policies=2, total_level=10,
/// magnitude_level=9, magnitude_std=0.5, hparams=dict(pad_val=[114, 123, 125],
/// interpolation='bicubic')`.
///
/// Per image: `num_ops` ops are drawn uniformly *with replacement* from the 14 policies;
/// each op with a magnitude draws its level `N(magnitude, magnitude_std)` clipped to
/// `[0, total_level]` and maps it linearly onto its range (`level/total·(hi − lo) + lo`);
/// then, in order, each op is applied with probability `prob` (0.5, each op's default)
/// and, for the signed ops, negated with probability 0.5. The pixel work is in
/// [`crate::ops`].
///
/// This is *not* timm's `rand-m9-mstd0.5-inc1` (a different op list, level rules and
/// PIL implementations): openmixup's configs call their own `RandAugment` class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandAugment {
    /// Ops per image (`num_policies`). Default 2.
    pub num_ops: usize,
    /// Mean magnitude level (`magnitude_level`). Default 9.
    pub magnitude: f64,
    /// Standard deviation of the level's Gaussian noise (`magnitude_std`); 0 keeps the
    /// level fixed. Default 0.5.
    pub magnitude_std: f64,
    /// The level that maps to the far end of each range (`total_level`). Default 10.
    pub total_level: f64,
    /// Probability that a drawn op is applied (every op class's `prob`). Default 0.5.
    pub prob: f64,
    /// Border colour of rotations, shears and translations (`pad_val`). Default
    /// `[114, 123, 125]`.
    pub fill: [u8; 3],
}

impl Default for RandAugment {
    fn default() -> Self {
        Self {
            num_ops: 2,
            magnitude: 9.0,
            magnitude_std: 0.5,
            total_level: 10.0,
            prob: 0.5,
            fill: [114, 123, 125],
        }
    }
}

fn invalid(name: &'static str, reason: String) -> DataError {
    DataError::InvalidOption { name, reason }
}

impl RandAugment {
    /// Rejects a non-positive `total_level`, a magnitude outside `[0, total_level]`, a
    /// negative or non-finite standard deviation, or a probability outside `[0, 1]`.
    pub fn validate(&self) -> Result<(), DataError> {
        if !(self.total_level.is_finite() && self.total_level > 0.0) {
            return Err(invalid(
                "rand_augment.total_level",
                format!("{} must be positive", self.total_level),
            ));
        }
        if !(0.0..=self.total_level).contains(&self.magnitude) {
            return Err(invalid(
                "rand_augment.magnitude",
                format!("{} is not in [0, {}]", self.magnitude, self.total_level),
            ));
        }
        if !(self.magnitude_std.is_finite() && self.magnitude_std >= 0.0) {
            return Err(invalid(
                "rand_augment.magnitude_std",
                format!("{} must be finite and ≥ 0", self.magnitude_std),
            ));
        }
        if !(0.0..=1.0).contains(&self.prob) {
            return Err(invalid(
                "rand_augment.prob",
                format!("{} is not in [0, 1]", self.prob),
            ));
        }
        Ok(())
    }

    /// Draws the ops one image gets, in the reference's order of draws: the `num_ops`
    /// policies, then their levels, then per op the coin for `prob` and the sign. Ops that
    /// lose their coin, and `Identity`, are left out.
    pub fn sample(&self, rng: &mut DataRng) -> Vec<AugmentOp> {
        let picks: Vec<Policy> = (0..self.num_ops)
            .map(|_| Policy::ALL[rng.below(Policy::ALL.len())])
            .collect();
        let values: Vec<f64> = picks
            .iter()
            .map(|policy| match policy.range() {
                None => 0.0,
                Some((lo, hi)) => {
                    let level = if self.magnitude_std > 0.0 {
                        (self.magnitude + self.magnitude_std * rng.normal())
                            .clamp(0.0, self.total_level)
                    } else {
                        self.magnitude
                    };
                    level / self.total_level * (hi - lo) + lo
                }
            })
            .collect();
        let mut ops = Vec::with_capacity(picks.len());
        for (policy, value) in picks.into_iter().zip(values) {
            // `Identity.__call__` returns at once; every other op draws `rand() > prob`.
            if policy == Policy::Identity || rng.uniform() > self.prob {
                continue;
            }
            let value = if policy.signed() && rng.uniform() < 0.5 {
                -value
            } else {
                value
            };
            ops.push(policy.with(value));
        }
        ops
    }

    /// Draws and applies the ops to an RGB image; a grey image is refused (the reference
    /// ops assume three channels: set the loader's `to_rgb`).
    ///
    /// # Shapes
    /// An `H × W × 3` image in, the same shape out.
    pub fn apply(&self, image: ImageU8, rng: &mut DataRng) -> Result<ImageU8, DataError> {
        if image.channels != 3 {
            return Err(invalid(
                "rand_augment",
                format!(
                    "needs an RGB image, got {} channel(s); set the loader's to_rgb",
                    image.channels
                ),
            ));
        }
        Ok(self
            .sample(rng)
            .iter()
            .fold(image, |img, op| op.apply(&img, self.fill)))
    }
}

//! Seeded per-image transforms on [`ImageU8`] and the final conversion to normalised
//! `f32` CHW.
//!
//! Every random draw comes from the [`DataRng`] handed in, which the loader keys by
//! `(seed, epoch, index)`, so an image's augmentation does not depend on thread scheduling.
//! Resizing is Pillow's, bit for bit (bilinear, or bicubic with `a = −0.5`; the kernel
//! widened when shrinking), as torchvision's transforms on PIL images compute it.

use serde::{Deserialize, Serialize};

use crate::resample::{PilFilter, pil_resize};
use crate::{DataError, DataRng, ImageU8, RandAugment, RandomErasing};

/// How a resize interpolates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    /// Bilinear (torchvision's default).
    #[default]
    Bilinear,
    /// Bicubic (the fine-grained recipes).
    Bicubic,
}

/// What fills the border of a padded crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// Zeros (torchvision's `RandomCrop(32, padding=4)`).
    #[default]
    Zero,
    /// Mirror without repeating the edge (`padding_mode="reflect"`).
    Reflect,
}

/// One step of a per-image pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// Pad every side by `padding`, then crop `size` at a uniform position.
    RandomCrop {
        /// Output `[height, width]`.
        size: [usize; 2],
        /// Pixels added on each side.
        padding: usize,
        /// What the border holds.
        #[serde(default)]
        fill: Padding,
    },
    /// Mirror left–right with probability `prob`.
    HorizontalFlip {
        /// Probability of flipping (0.5 in every recipe).
        prob: f64,
    },
    /// torchvision's `RandomResizedCrop`: a crop of random area fraction in `scale` and
    /// aspect ratio (width/height) log-uniform in `ratio`, resized to `size`.
    RandomResizedCrop {
        /// Output `[height, width]`.
        size: [usize; 2],
        /// Area fraction range (torchvision: `[0.08, 1.0]`).
        scale: [f64; 2],
        /// Aspect-ratio range (torchvision: `[3/4, 4/3]`).
        ratio: [f64; 2],
        /// Resampling filter.
        #[serde(default)]
        interpolation: Interpolation,
    },
    /// Resize so that the shorter side is `size`, keeping the aspect ratio.
    ResizeShorter {
        /// The shorter side after resizing.
        size: usize,
        /// Resampling filter.
        #[serde(default)]
        interpolation: Interpolation,
    },
    /// Resize to exactly `size`, ignoring the aspect ratio (warp).
    Resize {
        /// Output `[height, width]`.
        size: [usize; 2],
        /// Resampling filter.
        #[serde(default)]
        interpolation: Interpolation,
    },
    /// Crop `size` around the centre (torchvision's rounding of the offsets).
    CenterCrop {
        /// Output `[height, width]`.
        size: [usize; 2],
    },
    /// openmixup's RandAugment (FixMatch policies) on an RGB image; every key optional,
    /// defaults the DeiT-S CIFAR-100 recipe's (see [`RandAugment`]).
    RandAugment(RandAugment),
    /// openmixup's `RandomErasing_numpy` on the 8-bit image; every key optional, defaults
    /// the DeiT-S CIFAR-100 recipe's (see [`RandomErasing`]).
    RandomErasing(RandomErasing),
}

fn invalid(name: &'static str, reason: impl Into<String>) -> DataError {
    DataError::InvalidOption {
        name,
        reason: reason.into(),
    }
}

fn check_size(name: &'static str, size: [usize; 2]) -> Result<(), DataError> {
    if size[0] == 0 || size[1] == 0 {
        return Err(invalid(name, format!("size {size:?} must be positive")));
    }
    Ok(())
}

impl Transform {
    /// Rejects impossible parameters.
    pub fn validate(&self) -> Result<(), DataError> {
        match self {
            Transform::RandomCrop { size, .. } => check_size("random_crop.size", *size),
            Transform::HorizontalFlip { prob } => {
                if (0.0..=1.0).contains(prob) {
                    Ok(())
                } else {
                    Err(invalid(
                        "horizontal_flip.prob",
                        format!("{prob} is not in [0, 1]"),
                    ))
                }
            }
            Transform::RandomResizedCrop {
                size, scale, ratio, ..
            } => {
                check_size("random_resized_crop.size", *size)?;
                if !(0.0 < scale[0] && scale[0] <= scale[1] && scale[1] <= 1.0) {
                    return Err(invalid(
                        "random_resized_crop.scale",
                        format!("{scale:?} must satisfy 0 < lo ≤ hi ≤ 1"),
                    ));
                }
                if !(0.0 < ratio[0] && ratio[0] <= ratio[1] && ratio[1].is_finite()) {
                    return Err(invalid(
                        "random_resized_crop.ratio",
                        format!("{ratio:?} must satisfy 0 < lo ≤ hi"),
                    ));
                }
                Ok(())
            }
            Transform::ResizeShorter { size, .. } => check_size("resize_shorter.size", [*size, 1]),
            Transform::Resize { size, .. } => check_size("resize.size", *size),
            Transform::CenterCrop { size } => check_size("center_crop.size", *size),
            Transform::RandAugment(r) => r.validate(),
            Transform::RandomErasing(e) => e.validate(),
        }
    }

    /// Applies the step to one image.
    pub fn apply(&self, image: ImageU8, rng: &mut DataRng) -> Result<ImageU8, DataError> {
        match *self {
            Transform::RandomCrop {
                size,
                padding,
                fill,
            } => {
                let padded = pad(&image, padding, fill)?;
                let [h, w] = size;
                if h > padded.height || w > padded.width {
                    return Err(invalid(
                        "random_crop.size",
                        format!(
                            "{h}×{w} is larger than the padded {}×{} image",
                            padded.height, padded.width
                        ),
                    ));
                }
                let top = rng.below(padded.height - h + 1);
                let left = rng.below(padded.width - w + 1);
                Ok(crop(&padded, top, left, h, w))
            }
            Transform::HorizontalFlip { prob } => Ok(if rng.uniform() < prob {
                hflip(&image)
            } else {
                image
            }),
            Transform::RandomResizedCrop {
                size,
                scale,
                ratio,
                interpolation,
            } => {
                let (top, left, h, w) =
                    resized_crop_box(image.height, image.width, scale, ratio, rng);
                resize(crop(&image, top, left, h, w), size, interpolation)
            }
            Transform::ResizeShorter {
                size,
                interpolation,
            } => {
                let (h, w) = (image.height, image.width);
                let out = if h <= w {
                    [size, (size as f64 * w as f64 / h as f64) as usize]
                } else {
                    [(size as f64 * h as f64 / w as f64) as usize, size]
                };
                resize(image, out, interpolation)
            }
            Transform::Resize {
                size,
                interpolation,
            } => resize(image, size, interpolation),
            Transform::CenterCrop { size } => {
                let [h, w] = size;
                if h > image.height || w > image.width {
                    return Err(invalid(
                        "center_crop.size",
                        format!(
                            "{h}×{w} is larger than the {}×{} image",
                            image.height, image.width
                        ),
                    ));
                }
                let top = ((image.height - h) as f64 / 2.0).round() as usize;
                let left = ((image.width - w) as f64 / 2.0).round() as usize;
                Ok(crop(&image, top, left, h, w))
            }
            Transform::RandAugment(ref r) => r.apply(image, rng),
            Transform::RandomErasing(ref e) => Ok(e.apply(image, rng)),
        }
    }
}

/// torchvision's `RandomResizedCrop.get_params`: `(top, left, height, width)`.
pub fn resized_crop_box(
    height: usize,
    width: usize,
    scale: [f64; 2],
    ratio: [f64; 2],
    rng: &mut DataRng,
) -> (usize, usize, usize, usize) {
    let area = (height * width) as f64;
    let (log_lo, log_hi) = (ratio[0].ln(), ratio[1].ln());
    for _ in 0..10 {
        let target = area * (scale[0] + (scale[1] - scale[0]) * rng.uniform());
        let aspect = (log_lo + (log_hi - log_lo) * rng.uniform()).exp();
        // Python's `round`: half to even.
        let w = (target * aspect).sqrt().round_ties_even() as usize;
        let h = (target / aspect).sqrt().round_ties_even() as usize;
        if 0 < w && w <= width && 0 < h && h <= height {
            let top = rng.below(height - h + 1);
            let left = rng.below(width - w + 1);
            return (top, left, h, w);
        }
    }
    // Fallback: the whole image cropped to the nearest allowed ratio, centred.
    let in_ratio = width as f64 / height as f64;
    let (h, w) = if in_ratio < ratio[0] {
        (
            ((width as f64) / ratio[0]).round_ties_even() as usize,
            width,
        )
    } else if in_ratio > ratio[1] {
        (
            height,
            ((height as f64) * ratio[1]).round_ties_even() as usize,
        )
    } else {
        (height, width)
    };
    ((height - h) / 2, (width - w) / 2, h, w)
}

/// The `h × w` window at `(top, left)`.
pub fn crop(image: &ImageU8, top: usize, left: usize, h: usize, w: usize) -> ImageU8 {
    let c = image.channels;
    let mut pixels = Vec::with_capacity(h * w * c);
    for y in top..top + h {
        let start = (y * image.width + left) * c;
        pixels.extend_from_slice(&image.pixels[start..start + w * c]);
    }
    ImageU8 {
        height: h,
        width: w,
        channels: c,
        pixels,
    }
}

/// Mirrors left–right.
pub fn hflip(image: &ImageU8) -> ImageU8 {
    let c = image.channels;
    let mut pixels = Vec::with_capacity(image.pixels.len());
    for y in 0..image.height {
        for x in (0..image.width).rev() {
            let at = (y * image.width + x) * c;
            pixels.extend_from_slice(&image.pixels[at..at + c]);
        }
    }
    ImageU8 {
        pixels,
        ..image.clone()
    }
}

/// Pads every side by `p` pixels.
pub fn pad(image: &ImageU8, p: usize, fill: Padding) -> Result<ImageU8, DataError> {
    if p == 0 {
        return Ok(image.clone());
    }
    let (h, w, c) = (image.height, image.width, image.channels);
    if fill == Padding::Reflect && (p >= h || p >= w) {
        return Err(invalid(
            "random_crop.padding",
            format!("reflect padding {p} needs an image larger than {p}×{p}, got {h}×{w}"),
        ));
    }
    // Index into the original for padded coordinate `i` of a side of length `n`.
    let reflect = |i: isize, n: usize| -> Option<usize> {
        let n = n as isize;
        match fill {
            Padding::Zero => (0..n).contains(&i).then_some(i as usize),
            Padding::Reflect => Some(if i < 0 {
                (-i) as usize
            } else if i >= n {
                (2 * (n - 1) - i) as usize
            } else {
                i as usize
            }),
        }
    };
    let (ph, pw) = (h + 2 * p, w + 2 * p);
    let mut pixels = vec![0u8; ph * pw * c];
    for y in 0..ph {
        let Some(sy) = reflect(y as isize - p as isize, h) else {
            continue;
        };
        for x in 0..pw {
            let Some(sx) = reflect(x as isize - p as isize, w) else {
                continue;
            };
            let (dst, src) = ((y * pw + x) * c, (sy * w + sx) * c);
            pixels[dst..dst + c].copy_from_slice(&image.pixels[src..src + c]);
        }
    }
    Ok(ImageU8 {
        height: ph,
        width: pw,
        channels: c,
        pixels,
    })
}

/// Resizes to `[height, width]` exactly as `PIL.Image.resize` (Pillow 10.4) does with the
/// matching filter, which is what torchvision's transforms run on PIL images: separable
/// passes, horizontal then vertical, each with 22-bit fixed-point weights and rounded to
/// 8 bits; the kernel (triangle, or Keys' cubic with `a = −0.5`) is widened by the scale
/// when shrinking (anti-aliasing).
pub fn resize(
    image: ImageU8,
    size: [usize; 2],
    interpolation: Interpolation,
) -> Result<ImageU8, DataError> {
    let [h, w] = size;
    if h == 0 || w == 0 || image.height == 0 || image.width == 0 {
        return Err(invalid(
            "resize",
            format!("cannot resize {}×{} to {h}×{w}", image.height, image.width),
        ));
    }
    if (h, w) == (image.height, image.width) {
        return Ok(image);
    }
    let filter = match interpolation {
        Interpolation::Bilinear => PilFilter::Bilinear,
        Interpolation::Bicubic => PilFilter::Bicubic,
    };
    Ok(pil_resize(&image, h, w, filter))
}

/// Per-channel mean and standard deviation, applied to values scaled to [0, 1].
///
/// ```
/// use mixaug_data::{ImageU8, Normalize};
/// // A 1×2 RGB image (HWC): (0, 51, 255) then (255, 102, 0).
/// let image = ImageU8::new(1, 2, 3, vec![0, 51, 255, 255, 102, 0]).unwrap();
/// let half = Normalize { mean: [0.5; 3], std: [0.5; 3] };
/// let mut chw = Vec::new();
/// half.to_chw(&image, &mut chw);
/// // Planes R, G, B, each (v/255 − 0.5)/0.5 = 2v/255 − 1: 51/255 = 0.2 gives −0.6.
/// let expected = [-1.0, 1.0, -0.6, -0.2, 1.0, -1.0];
/// assert!(chw.iter().zip(expected).all(|(v, e)| (v - e).abs() < 1e-6));
/// assert!(Normalize { std: [0.2, 0.0, 0.2], ..half }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Normalize {
    /// Channel means.
    pub mean: [f32; 3],
    /// Channel standard deviations (positive).
    pub std: [f32; 3],
}

impl Normalize {
    /// CIFAR-10 statistics (the Summers & Dinneen / Mixup recipes).
    pub const CIFAR10: Normalize = Normalize {
        mean: [0.4914, 0.4822, 0.4465],
        std: [0.2023, 0.1994, 0.2010],
    };
    /// CIFAR-100 statistics.
    pub const CIFAR100: Normalize = Normalize {
        mean: [0.5071, 0.4865, 0.4409],
        std: [0.2673, 0.2564, 0.2762],
    };
    /// ImageNet statistics (ImageNet, Tiny-ImageNet and the fine-grained sets).
    pub const IMAGENET: Normalize = Normalize {
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
    };
    /// Fashion-MNIST statistics (grey, repeated on the three channels).
    pub const FASHION_MNIST: Normalize = Normalize {
        mean: [0.2860; 3],
        std: [0.3530; 3],
    };

    /// Rejects non-positive or non-finite standard deviations.
    pub fn validate(&self) -> Result<(), DataError> {
        if self.std.iter().all(|s| s.is_finite() && *s > 0.0)
            && self.mean.iter().all(|m| m.is_finite())
        {
            Ok(())
        } else {
            Err(invalid(
                "normalize",
                format!("{self:?}: std must be positive, all finite"),
            ))
        }
    }

    /// `(v/255 − mean[c]) / std[c]` for every value of a `C×H×W`-ordered output
    /// (channel `c` of a grey image uses entry 0).
    pub fn to_chw(&self, image: &ImageU8, out: &mut Vec<f32>) {
        let (h, w, c) = (image.height, image.width, image.channels);
        for ch in 0..c {
            let (m, s) = (self.mean[ch], self.std[ch]);
            for p in 0..h * w {
                out.push((f32::from(image.pixels[p * c + ch]) / 255.0 - m) / s);
            }
        }
    }
}

/// A list of steps, applied in order.
///
/// ```
/// use mixaug_data::{DataRng, ImageU8, Pipeline, Transform};
/// // A 4×5 grey image holding 0, 1, …, 19 row by row.
/// let image = ImageU8::new(4, 5, 1, (0..20).collect()).unwrap();
/// let pipeline = Pipeline {
///     steps: vec![
///         // Offsets ((4 − 2)/2, (5 − 3)/2) = (1, 1): rows 1–2, columns 1–3.
///         Transform::CenterCrop { size: [2, 3] },
///         Transform::HorizontalFlip { prob: 1.0 },
///     ],
/// };
/// pipeline.validate().unwrap();
/// let out = pipeline.apply(image, &mut DataRng::for_sample(0, 0, 0)).unwrap();
/// assert_eq!((out.height, out.width), (2, 3));
/// assert_eq!(out.pixels, vec![8, 7, 6, 13, 12, 11]);
/// // Random steps draw from the sample's stream: the same (seed, epoch, index), the same crop.
/// let cifar = ImageU8::new(32, 32, 1, (0..1024).map(|i| (i % 251) as u8).collect()).unwrap();
/// let augment = |index| {
///     Pipeline::cifar_train().apply(cifar.clone(), &mut DataRng::for_sample(7, 0, index))
/// };
/// assert_eq!(augment(3).unwrap(), augment(3).unwrap());
/// assert_eq!(augment(3).unwrap().height, 32);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    /// The steps.
    pub steps: Vec<Transform>,
}

impl Pipeline {
    /// torchvision's CIFAR training augmentation: pad 4 + random 32×32 crop, flip 0.5.
    pub fn cifar_train() -> Self {
        Self {
            steps: vec![
                Transform::RandomCrop {
                    size: [32, 32],
                    padding: 4,
                    fill: Padding::Zero,
                },
                Transform::HorizontalFlip { prob: 0.5 },
            ],
        }
    }

    /// The ImageNet training augmentation: RandomResizedCrop to `size`×`size` (224 in the
    /// ImageNet recipes), flip 0.5.
    pub fn imagenet_train(size: usize) -> Self {
        Self {
            steps: vec![
                Transform::RandomResizedCrop {
                    size: [size, size],
                    scale: [0.08, 1.0],
                    ratio: [3.0 / 4.0, 4.0 / 3.0],
                    interpolation: Interpolation::Bilinear,
                },
                Transform::HorizontalFlip { prob: 0.5 },
            ],
        }
    }

    /// openmixup's CIFAR-100 DeiT-S training augmentation at 224² (the SUMix ViT column;
    /// `configs/classification/_base_/datasets/cifar100/sz224_swin_bs100.py`, JinXins/SUMix
    /// 0469ec2 and Westlake-AI/openmixup): `RandomResizedCrop(224, scale=(0.8, 1),
    /// interpolation=BICUBIC)` straight from the 32×32 image (no separate upscale), flip
    /// 0.5, [`RandAugment`] (2 ops, magnitude 9 ± 0.5 of 10, fill `[114, 123, 125]`,
    /// bicubic warps) and [`RandomErasing`] (0.25, Gaussian fill) — then `ToTensor` and
    /// `Normalize` with CIFAR-10's statistics ([`Normalize::CIFAR10`], as the config has
    /// it). Evaluation: [`Pipeline::vit_cifar_eval`].
    pub fn deit_cifar_train() -> Self {
        Self {
            steps: vec![
                Self::vit_cifar_crop(),
                Transform::HorizontalFlip { prob: 0.5 },
                Transform::RandAugment(RandAugment::default()),
                Transform::RandomErasing(RandomErasing::default()),
            ],
        }
    }

    /// openmixup's CIFAR-100 Swin-T training augmentation at 224²
    /// (`configs/classification/_base_/datasets/cifar100/sz224_randaug_bs100.py`, used by
    /// `swin_t_mixups_sz224_bs100.py`): as [`Pipeline::deit_cifar_train`] with RandAugment
    /// magnitude 7 and no random erasing.
    pub fn swin_cifar_train() -> Self {
        Self {
            steps: vec![
                Self::vit_cifar_crop(),
                Transform::HorizontalFlip { prob: 0.5 },
                Transform::RandAugment(RandAugment {
                    magnitude: 7.0,
                    ..RandAugment::default()
                }),
            ],
        }
    }

    /// The ViT recipes' evaluation transform: `Resize(224, interpolation=BICUBIC)` (the
    /// shorter side to 224: a CIFAR image becomes 224×224).
    pub fn vit_cifar_eval() -> Self {
        Self {
            steps: vec![Transform::ResizeShorter {
                size: 224,
                interpolation: Interpolation::Bicubic,
            }],
        }
    }

    fn vit_cifar_crop() -> Transform {
        Transform::RandomResizedCrop {
            size: [224, 224],
            scale: [0.8, 1.0],
            ratio: [3.0 / 4.0, 4.0 / 3.0],
            interpolation: Interpolation::Bicubic,
        }
    }

    /// The ImageNet evaluation transform: shorter side `resize`, centre crop `size`.
    pub fn imagenet_eval(resize: usize, size: usize) -> Self {
        Self {
            steps: vec![
                Transform::ResizeShorter {
                    size: resize,
                    interpolation: Interpolation::Bilinear,
                },
                Transform::CenterCrop { size: [size, size] },
            ],
        }
    }

    /// Rejects impossible steps.
    pub fn validate(&self) -> Result<(), DataError> {
        self.steps.iter().try_for_each(Transform::validate)
    }

    /// Applies every step.
    pub fn apply(&self, mut image: ImageU8, rng: &mut DataRng) -> Result<ImageU8, DataError> {
        for step in &self.steps {
            image = step.apply(image, rng)?;
        }
        Ok(image)
    }
}

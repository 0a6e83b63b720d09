//! Pillow's resampling (`Image.resize` with `BILINEAR` or `BICUBIC`), bit for bit.
//!
//! torchvision's `Resize` and `RandomResizedCrop` on PIL images (the openmixup CIFAR
//! pipelines, whose data source yields PIL images) call `PIL.Image.resize`, which Pillow
//! implements in `libImaging/Resample.c` as two separable passes, horizontal then
//! vertical, each rounding to 8 bits — as Pillow did when the reference ran (checked
//! against Pillow 10.4.0). Pillow 13.0.0 instead runs first the pass that leaves the
//! smaller intermediate image, which moves many pixels (by up to tens of units, where the
//! intermediate clips) whenever it picks vertical first. In each pass:
//!
//! - output sample `i` is centred at `(i + 0.5)·scale` in input coordinates
//!   (`scale = in/out`); when shrinking the kernel is stretched by `scale`
//!   (anti-aliasing), when enlarging it keeps its own width;
//! - the taps are the input pixels whose centres lie within the support, their weights
//!   the kernel at `(j + 0.5 − centre)/max(scale, 1)`, normalised to sum to 1 and then
//!   rounded to 22-bit fixed point (away from zero);
//! - a sum starts at `2²¹` (rounding) and the result is the sum `>> 22`, clamped to
//!   `0..=255`.
//!
//! Kernels: bilinear is the triangle `1 − |x|` (support 1); bicubic is Keys' cubic with
//! `a = −0.5` (support 2) — OpenCV's bicubic (used by the RandAugment warps) has
//! `a = −0.75` instead.

use crate::ImageU8;

/// Fixed-point bits of a weight (Pillow's `PRECISION_BITS = 32 − 8 − 2`).
const PRECISION_BITS: u32 = 22;

/// A sum's starting value: ½ in fixed point, so that the final shift rounds.
const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// The two kernels Pillow offers that the recipes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PilFilter {
    /// `BILINEAR`: the triangle kernel, support 1.
    Bilinear,
    /// `BICUBIC`: Keys' cubic with `a = −0.5`, support 2.
    Bicubic,
}

impl PilFilter {
    fn support(self) -> f64 {
        match self {
            PilFilter::Bilinear => 1.0,
            PilFilter::Bicubic => 2.0,
        }
    }

    fn weight(self, x: f64) -> f64 {
        let x = x.abs();
        match self {
            PilFilter::Bilinear => {
                if x < 1.0 {
                    1.0 - x
                } else {
                    0.0
                }
            }
            PilFilter::Bicubic => {
                const A: f64 = -0.5;
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
        }
    }
}

/// The taps of one output sample: the first input index and the fixed-point weights.
struct Taps {
    first: usize,
    weights: Vec<i32>,
}

/// Pillow's `precompute_coeffs` followed by `normalize_coeffs_8bpc`, for resizing a side
/// of `input` samples to `output`.
fn taps(input: usize, output: usize, filter: PilFilter) -> Vec<Taps> {
    let scale = input as f64 / output as f64;
    let filter_scale = scale.max(1.0);
    let support = filter.support() * filter_scale;
    (0..output)
        .map(|i| {
            let centre = (i as f64 + 0.5) * scale;
            // C's `(int)` truncates toward zero; both bounds are clamped to the image.
            let first = ((centre - support + 0.5) as i64).max(0) as usize;
            let end = ((centre + support + 0.5) as i64).min(input as i64) as usize;
            let raw: Vec<f64> = (first..end)
                .map(|j| filter.weight((j as f64 - centre + 0.5) / filter_scale))
                .collect();
            let total: f64 = raw.iter().sum();
            let weights = raw
                .iter()
                .map(|&w| {
                    let w = if total != 0.0 { w / total } else { w };
                    let scaled = w * f64::from(1u32 << PRECISION_BITS);
                    // Rounded half away from zero, as Pillow does.
                    if w < 0.0 {
                        (scaled - 0.5) as i32
                    } else {
                        (scaled + 0.5) as i32
                    }
                })
                .collect();
            Taps { first, weights }
        })
        .collect()
}

fn clip8(sum: i32) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// The horizontal pass: every row resampled to `width` columns.
fn horizontal(image: &ImageU8, width: usize, filter: PilFilter) -> ImageU8 {
    let (h, c) = (image.height, image.channels);
    let taps = taps(image.width, width, filter);
    let mut pixels = Vec::with_capacity(h * width * c);
    for row in image.pixels.chunks_exact(image.width * c) {
        for tap in &taps {
            let window = &row[tap.first * c..];
            for ch in 0..c {
                let sum = tap
                    .weights
                    .iter()
                    .enumerate()
                    .fold(HALF, |s, (k, &w)| s + i32::from(window[k * c + ch]) * w);
                pixels.push(clip8(sum));
            }
        }
    }
    ImageU8 {
        height: h,
        width,
        channels: c,
        pixels,
    }
}

/// The vertical pass: every column resampled to `height` rows, accumulated a whole row at
/// a time (the integer sums do not depend on the order).
fn vertical(image: &ImageU8, height: usize, filter: PilFilter) -> ImageU8 {
    let row_len = image.width * image.channels;
    let taps = taps(image.height, height, filter);
    let mut pixels = Vec::with_capacity(height * row_len);
    let mut sums = vec![0i32; row_len];
    for tap in &taps {
        sums.fill(HALF);
        for (k, &w) in tap.weights.iter().enumerate() {
            let start = (tap.first + k) * row_len;
            for (s, &v) in sums.iter_mut().zip(&image.pixels[start..start + row_len]) {
                *s += i32::from(v) * w;
            }
        }
        pixels.extend(sums.iter().map(|&s| clip8(s)));
    }
    ImageU8 {
        height,
        width: image.width,
        channels: image.channels,
        pixels,
    }
}

/// Resizes to `height × width` as `PIL.Image.resize((width, height), filter)` does
/// (Pillow 10.4, as at the reference's time: the horizontal pass first). Sizes must be positive (checked by the
/// caller).
pub(crate) fn pil_resize(
    image: &ImageU8,
    height: usize,
    width: usize,
    filter: PilFilter,
) -> ImageU8 {
    let across = if width != image.width {
        horizontal(image, width, filter)
    } else {
        image.clone()
    };
    if height != image.height {
        vertical(&across, height, filter)
    } else {
        across
    }
}

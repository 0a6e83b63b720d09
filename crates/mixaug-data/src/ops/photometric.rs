//! Colour and histogram operations (mmcv 1.x `photometric.py`, openmixup's
//! `auto_contrast` and `adjust_sharpness`).

use crate::ImageU8;

/// The image with every value replaced by `f(value, channel)`.
fn map_values(image: &ImageU8, f: impl Fn(u8, usize) -> u8) -> ImageU8 {
    let c = image.channels;
    let pixels = image
        .pixels
        .iter()
        .enumerate()
        .map(|(i, &v)| f(v, i % c))
        .collect();
    ImageU8 {
        pixels,
        ..image.clone()
    }
}

/// A 256-entry histogram of each channel.
fn histograms(image: &ImageU8) -> Vec<[u64; 256]> {
    let c = image.channels;
    let mut hist = vec![[0u64; 256]; c];
    for (i, &v) in image.pixels.iter().enumerate() {
        hist[i % c][usize::from(v)] += 1;
    }
    hist
}

/// `cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)` on an 8-bit image: OpenCV's 15-bit fixed-point
/// weights 3735 (channel 0), 19235 (channel 1), 9798 (channel 2), rounded. mmcv applies
/// it to RGB arrays, so channel 0 — red — gets the weight meant for blue. A grey image is
/// its own grey.
fn bgr2gray(image: &ImageU8) -> Vec<u8> {
    if image.channels == 1 {
        return image.pixels.clone();
    }
    image
        .pixels
        .chunks_exact(image.channels)
        .map(|p| {
            let sum = u32::from(p[0]) * 3735 + u32::from(p[1]) * 19235 + u32::from(p[2]) * 9798;
            ((sum + (1 << 14)) >> 15) as u8
        })
        .collect()
}

/// `cv2.addWeighted` on `float32` images — OpenCV computes `a·α + b·(1 − α)` in double and
/// stores a float — followed by `np.clip(·, 0, 255).astype(np.uint8)`, which truncates.
fn blend_truncated(a: u8, b: f64, alpha: f64) -> u8 {
    let blended = (f64::from(a) * alpha + b * (1.0 - alpha)) as f32;
    blended.clamp(0.0, 255.0) as u8
}

/// `mmcv.solarize(img, thr)`: every value `v ≥ thr` becomes `255 − v`.
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn solarize(image: &ImageU8, threshold: f64) -> ImageU8 {
    map_values(
        image,
        |v, _| {
            if f64::from(v) < threshold { v } else { 255 - v }
        },
    )
}

/// `mmcv.posterize(img, bits)`: keeps the `bits` high bits of every value (`bits` above 8
/// keep everything, 0 clears everything).
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn posterize(image: &ImageU8, bits: u32) -> ImageU8 {
    let shift = 8u32.saturating_sub(bits);
    map_values(image, |v, _| ((u32::from(v) >> shift) << shift) as u8)
}

/// openmixup's `auto_contrast(img, cutoff=0)`: each channel stretched so that its darkest
/// value maps to 0 and its brightest to 255 (`v·s − lo·s` with `s = 255/(hi − lo)` in
/// double, then truncated); a channel of one value is left alone.
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn auto_contrast(image: &ImageU8) -> ImageU8 {
    let luts: Vec<[u8; 256]> = histograms(image)
        .iter()
        .map(|hist| {
            let mut lut = [0u8; 256];
            let lo = hist.iter().position(|&n| n > 0);
            let hi = hist.iter().rposition(|&n| n > 0);
            match (lo, hi) {
                (Some(lo), Some(hi)) if lo < hi => {
                    let scale = 255.0 / (hi - lo) as f64;
                    let offset = -(lo as f64) * scale;
                    for (v, out) in lut.iter_mut().enumerate() {
                        *out = (v as f64 * scale + offset).clamp(0.0, 255.0) as u8;
                    }
                }
                _ => {
                    for (v, out) in lut.iter_mut().enumerate() {
                        *out = v as u8;
                    }
                }
            }
            lut
        })
        .collect();
    map_values(image, |v, c| luts[c][usize::from(v)])
}

/// `mmcv.imequalize(img)`: per-channel histogram equalisation with PIL's rule — the step
/// is `(N − count of the brightest present value) // 255`, value `v` maps to
/// `(cumulative count below v + step // 2) // step` (at most 255); a channel whose step is
/// 0 is left alone.
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn equalize(image: &ImageU8) -> ImageU8 {
    let luts: Vec<[u8; 256]> = histograms(image)
        .iter()
        .map(|hist| {
            let total: u64 = hist.iter().sum();
            let last = hist.iter().rev().find(|&&n| n > 0).copied().unwrap_or(0);
            let step = (total - last) / 255;
            let mut lut = [0u8; 256];
            let mut below = 0u64;
            for (v, out) in lut.iter_mut().enumerate() {
                // A zero step leaves the channel alone.
                *out = (below + step / 2)
                    .checked_div(step)
                    .map_or(v as u8, |mapped| mapped.min(255) as u8);
                below += hist[v];
            }
            lut
        })
        .collect();
    map_values(image, |v, c| luts[c][usize::from(v)])
}

/// `mmcv.adjust_brightness(img, factor)` (cv2 backend): `v·factor`, in float, clipped and
/// truncated to 8 bits.
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn adjust_brightness(image: &ImageU8, factor: f64) -> ImageU8 {
    map_values(image, |v, _| blend_truncated(v, 0.0, factor))
}

/// `mmcv.adjust_contrast(img, factor)` (cv2 backend): a blend with the image's mean grey
/// value `m` (mmcv's BGR2GRAY grey of the RGB array, its mean rounded half to even):
/// `v·factor + m·(1 − factor)`, in float, clipped and truncated.
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn adjust_contrast(image: &ImageU8, factor: f64) -> ImageU8 {
    let gray = bgr2gray(image);
    let sum: u64 = gray.iter().map(|&g| u64::from(g)).sum();
    let mean = (sum as f64 / gray.len().max(1) as f64).round_ties_even();
    map_values(image, |v, _| blend_truncated(v, mean, factor))
}

/// `mmcv.adjust_color(img, alpha=factor)` (cv2 backend): `cv2.addWeighted` of the image
/// and its grey (mmcv's BGR grey of the RGB array) with weights `factor` and
/// `1 − factor`, in single precision, rounded half to even and saturated.
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn adjust_color(image: &ImageU8, factor: f64) -> ImageU8 {
    let gray = bgr2gray(image);
    let (alpha, beta) = (factor as f32, (1.0 - factor) as f32);
    let c = image.channels;
    let pixels = image
        .pixels
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let g = f32::from(gray[i / c]);
            (f32::from(v) * alpha + g * beta)
                .round_ties_even()
                .clamp(0.0, 255.0) as u8
        })
        .collect();
    ImageU8 {
        pixels,
        ..image.clone()
    }
}

/// `cv2.BORDER_REFLECT_101`: index `i` of a side of `n` reflected without repeating the
/// edge.
fn reflect101(i: isize, n: usize) -> usize {
    let n = n as isize;
    if n == 1 {
        return 0;
    }
    let r = if i < 0 {
        -i
    } else if i >= n {
        2 * (n - 1) - i
    } else {
        i
    };
    r as usize
}

/// openmixup's `adjust_sharpness(img, factor)`: the image smoothed by PIL's SMOOTH kernel
/// `[[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13` with `cv2.filter2D` (single-precision sums,
/// rounded; the border reflected, so the edges are smoothed too), then blended as
/// `v·factor + smooth·(1 − factor)`, clipped and truncated.
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn adjust_sharpness(image: &ImageU8, factor: f64) -> ImageU8 {
    let (h, w, c) = (image.height, image.width, image.channels);
    let kernel: [[f32; 3]; 3] = [
        [(1.0 / 13.0) as f32; 3],
        [
            (1.0 / 13.0) as f32,
            (5.0 / 13.0) as f32,
            (1.0 / 13.0) as f32,
        ],
        [(1.0 / 13.0) as f32; 3],
    ];
    let mut pixels = Vec::with_capacity(image.pixels.len());
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                let mut sum = 0.0f32;
                for (dy, row) in kernel.iter().enumerate() {
                    let sy = reflect101(y as isize + dy as isize - 1, h);
                    for (dx, &k) in row.iter().enumerate() {
                        let sx = reflect101(x as isize + dx as isize - 1, w);
                        sum += f32::from(image.pixels[(sy * w + sx) * c + ch]) * k;
                    }
                }
                let smooth = sum.round_ties_even().clamp(0.0, 255.0);
                let v = image.pixels[(y * w + x) * c + ch];
                pixels.push(blend_truncated(v, f64::from(smooth), factor));
            }
        }
    }
    ImageU8 {
        pixels,
        ..image.clone()
    }
}

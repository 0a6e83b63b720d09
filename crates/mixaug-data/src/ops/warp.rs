//! Affine warps as `mmcv.imshear`, `mmcv.imtranslate` and `mmcv.imrotate` compute them:
//! `cv2.warpAffine(img, M, (w, h), flags=cv2.INTER_CUBIC, borderValue=fill)`.
//!
//! OpenCV inverts `M` (in double), then walks the output on a fixed-point grid: the source
//! position of output `(x, y)` is `M⁻¹·(x, y)` rounded to 1/32 pixel (`AB_BITS = 10`,
//! `INTER_BITS = 5`); its integer part picks a 4×4 neighbourhood and its fraction one of
//! 32×32 precomputed weight tables — the outer product of Keys' cubic with `a = −0.75` in
//! single precision, scaled to 15 bits and corrected to sum exactly to `2¹⁵`. Pixels
//! outside the image count as the fill colour.

use std::sync::OnceLock;

use crate::ImageU8;

/// Which image axis a shear or translation moves along.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// Along a row (mmcv's `direction='horizontal'`).
    Horizontal,
    /// Along a column (`direction='vertical'`).
    Vertical,
}

const INTER_BITS: u32 = 5;
const TAB_SIZE: usize = 1 << INTER_BITS;
const AB_BITS: u32 = 10;
const AB_SCALE: f64 = (1 << AB_BITS) as f64;
const COEF_BITS: u32 = 15;
const COEF_SCALE: i32 = 1 << COEF_BITS;

/// OpenCV's `interpolateCubic` in single precision.
fn cubic_coefficients(x: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let c0 = ((A * (x + 1.0) - 5.0 * A) * (x + 1.0) + 8.0 * A) * (x + 1.0) - 4.0 * A;
    let c1 = ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let c2 = ((A + 2.0) * (1.0 - x) - (A + 3.0)) * (1.0 - x) * (1.0 - x) + 1.0;
    [c0, c1, c2, 1.0 - c0 - c1 - c2]
}

/// OpenCV's fixed-point bicubic tables (`initInterTab2D(INTER_CUBIC, true)`): entry
/// `fy·32 + fx` holds the 4×4 weights (row-major: rows = y taps) for the fractions
/// `fy/32`, `fx/32`.
fn bicubic_tables() -> &'static [[i32; 16]] {
    static TABLES: OnceLock<Vec<[i32; 16]>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let scale = 1.0f32 / TAB_SIZE as f32;
        let one_d: Vec<[f32; 4]> = (0..TAB_SIZE)
            .map(|i| cubic_coefficients(i as f32 * scale))
            .collect();
        let mut tables = Vec::with_capacity(TAB_SIZE * TAB_SIZE);
        for ky in &one_d {
            for kx in &one_d {
                let mut tab = [0i32; 16];
                for k1 in 0..4 {
                    for k2 in 0..4 {
                        let v = ky[k1] * kx[k2];
                        tab[k1 * 4 + k2] = (v * COEF_SCALE as f32).round_ties_even() as i32;
                    }
                }
                let diff: i32 = tab.iter().sum::<i32>() - COEF_SCALE;
                if diff != 0 {
                    // OpenCV corrects the smallest (diff > 0) or largest (diff < 0) weight
                    // of the 2×2 block at `ksize/2 = 2` — rows and columns 2..4, not the
                    // centre — first found in row-major order, starting from (2, 2).
                    let (mut lo, mut hi) = (10usize, 10usize);
                    for k1 in 2..4 {
                        for k2 in 2..4 {
                            let k = k1 * 4 + k2;
                            if tab[k] < tab[lo] {
                                lo = k;
                            } else if tab[k] > tab[hi] {
                                hi = k;
                            }
                        }
                    }
                    if diff < 0 {
                        tab[hi] -= diff;
                    } else {
                        tab[lo] -= diff;
                    }
                }
                tables.push(tab);
            }
        }
        tables
    })
}

/// `cvRound` of a double: nearest, ties to even.
fn cv_round(v: f64) -> i32 {
    v.round_ties_even() as i32
}

/// `cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_CUBIC,
/// borderMode=cv2.BORDER_CONSTANT, borderValue=fill)`: output pixel `(x, y)` samples the
/// source at `m⁻¹·(x, y)`, where `m = [[m0, m1, m2], [m3, m4, m5]]` maps source to output
/// coordinates (pixel centres at integers). Channels beyond the third take `fill[2]`.
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn warp_affine(image: &ImageU8, m: [f64; 6], fill: [u8; 3]) -> ImageU8 {
    let (h, w, c) = (image.height, image.width, image.channels);
    // Inverse map, as OpenCV computes it.
    let det = m[0] * m[4] - m[1] * m[3];
    let d = if det != 0.0 { 1.0 / det } else { 0.0 };
    let (i0, i1, i3, i4) = (m[4] * d, -m[1] * d, -m[3] * d, m[0] * d);
    let i2 = -i0 * m[2] - i1 * m[5];
    let i5 = -i3 * m[2] - i4 * m[5];
    let adelta: Vec<i32> = (0..w).map(|x| cv_round(i0 * x as f64 * AB_SCALE)).collect();
    let bdelta: Vec<i32> = (0..w).map(|x| cv_round(i3 * x as f64 * AB_SCALE)).collect();
    let round_delta = (AB_SCALE as i32) / TAB_SIZE as i32 / 2;
    let tables = bicubic_tables();
    let fill_of = |ch: usize| i32::from(fill[ch.min(2)]);
    let mut pixels = vec![0u8; h * w * c];
    for y in 0..h {
        let x0 = cv_round((i1 * y as f64 + i2) * AB_SCALE) + round_delta;
        let y0 = cv_round((i4 * y as f64 + i5) * AB_SCALE) + round_delta;
        for x in 0..w {
            let fx = (x0 + adelta[x]) >> (AB_BITS - INTER_BITS);
            let fy = (y0 + bdelta[x]) >> (AB_BITS - INTER_BITS);
            let (sx, sy) = ((fx >> INTER_BITS) - 1, (fy >> INTER_BITS) - 1);
            let tab =
                &tables[(fy as usize & (TAB_SIZE - 1)) * TAB_SIZE + (fx as usize & (TAB_SIZE - 1))];
            for ch in 0..c {
                let mut sum = 0i32;
                for i in 0..4 {
                    let yy = sy + i as i32;
                    for j in 0..4 {
                        let xx = sx + j as i32;
                        let v = if (0..h as i32).contains(&yy) && (0..w as i32).contains(&xx) {
                            i32::from(image.pixels[(yy as usize * w + xx as usize) * c + ch])
                        } else {
                            fill_of(ch)
                        };
                        sum += v * tab[i * 4 + j];
                    }
                }
                pixels[(y * w + x) * c + ch] =
                    ((sum + (1 << (COEF_BITS - 1))) >> COEF_BITS).clamp(0, 255) as u8;
            }
        }
    }
    ImageU8 {
        pixels,
        ..image.clone()
    }
}

/// `mmcv.imshear(img, magnitude, direction, border_value=fill, interpolation='bicubic')`:
/// the matrix `[[1, s, 0], [0, 1, 0]]` (horizontal) or `[[1, 0, 0], [s, 1, 0]]`
/// (vertical), built in `float32` as mmcv does.
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn shear(image: &ImageU8, magnitude: f64, axis: Axis, fill: [u8; 3]) -> ImageU8 {
    let s = f64::from(magnitude as f32);
    let m = match axis {
        Axis::Horizontal => [1.0, s, 0.0, 0.0, 1.0, 0.0],
        Axis::Vertical => [1.0, 0.0, 0.0, s, 1.0, 0.0],
    };
    warp_affine(image, m, fill)
}

/// `mmcv.imtranslate(img, offset, direction, border_value=fill,
/// interpolation='bicubic')`: the content moves by `offset` pixels (right or down when
/// positive); the matrix is built in `float32` as mmcv does.
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn translate(image: &ImageU8, offset: f64, axis: Axis, fill: [u8; 3]) -> ImageU8 {
    let t = f64::from(offset as f32);
    let m = match axis {
        Axis::Horizontal => [1.0, 0.0, t, 0.0, 1.0, 0.0],
        Axis::Vertical => [1.0, 0.0, 0.0, 0.0, 1.0, t],
    };
    warp_affine(image, m, fill)
}

/// `mmcv.imrotate(img, degrees, border_value=fill, interpolation='bicubic')`: clockwise
/// by `degrees` about the centre `((w − 1)/2, (h − 1)/2)`, the size kept — OpenCV's
/// `getRotationMatrix2D(centre, −degrees, 1)`.
///
/// # Shapes
/// Any `H × W × C` image in, the same shape out.
pub fn rotate(image: &ImageU8, degrees: f64, fill: [u8; 3]) -> ImageU8 {
    let (cx, cy) = (
        (image.width as f64 - 1.0) * 0.5,
        (image.height as f64 - 1.0) * 0.5,
    );
    // OpenCV: `angle *= CV_PI/180`.
    let angle = -degrees * (std::f64::consts::PI / 180.0);
    let (alpha, beta) = (angle.cos(), angle.sin());
    let m = [
        alpha,
        beta,
        (1.0 - alpha) * cx - beta * cy,
        -beta,
        alpha,
        beta * cx + (1.0 - alpha) * cy,
    ];
    warp_affine(image, m, fill)
}

//! Fine-grained static saliency, bit-exact with OpenCV's `StaticSaliencyFineGrained`.
//!
//! Montabone & Soto, *Human detection using a mobile platform and novel features derived
//! from a visual saliency mechanism*, Image and Vision Computing 2010; reference code:
//! opencv/opencv_contrib `modules/saliency/src/staticSaliencyFineGrained.cpp` with
//! imgproc's `cvtColor`, `GaussianBlur` and `integral`. Spec: METHODS.md §9.1 (the uint8
//! path, which this module reproduces exactly for images with `255·H·W < 2²⁴`, i.e. up to
//! 256×256; larger images follow OpenCV 4.14's accumulation order).
//!
//! The map is computed on the host, a batch spread over cores with rayon
//! ([`saliency_maps`]). A device version written with tensor ops (in `benches/maps.rs`)
//! was measured beside it on flex, 2 cores, and gives the same bytes there but is slower:
//! 64 images of 224×224 take 247 ms on the host against 903 ms on the device, 128 of
//! 32×32 take 3.3 ms against 32 ms (one 224×224 map: 2.6 ms on one core). The device
//! version also cannot be bit-exact on GPUs, whose shader division is approximate, while
//! OpenCV's surround mean is a correctly rounded float32 division and its stretch a double
//! product; and SaliencyMix needs one map per batch (or one per sample). So the host it is.

use burn::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::MapError;

/// The six centre–surround half-sizes, in OpenCV's order.
pub const SALIENCY_SCALES: [usize; 6] = [12, 24, 48, 28, 56, 112];

/// A borrowed 8-bit image, row-major HWC.
///
/// One channel (grey) or three channels in **B, G, R memory order**, as OpenCV reads them.
#[derive(Debug, Clone, Copy)]
pub struct ImageU8<'a> {
    pixels: &'a [u8],
    height: usize,
    width: usize,
    channels: usize,
}

impl<'a> ImageU8<'a> {
    /// Wraps `pixels` (`height·width·channels` bytes, HWC) after checking the shape.
    ///
    /// # Errors
    /// [`MapError::Channels`] unless `channels` is 1 or 3, [`MapError::ImageTooSmall`] if a
    /// side is below 2 (OpenCV's reflected border needs two pixels), and
    /// [`MapError::ShapeMismatch`] if the buffer has the wrong length.
    pub fn new(
        pixels: &'a [u8],
        height: usize,
        width: usize,
        channels: usize,
    ) -> Result<Self, MapError> {
        check_image("fine-grained saliency", height, width, channels)?;
        if pixels.len() != height * width * channels {
            return Err(MapError::ShapeMismatch {
                what: "saliency image buffer",
                expected: format!("{height}·{width}·{channels} bytes"),
                got: format!("{} bytes", pixels.len()),
            });
        }
        Ok(Self {
            pixels,
            height,
            width,
            channels,
        })
    }
}

/// Checks the channel count and the size of an image given to the saliency routine.
pub(crate) fn check_image(
    what: &'static str,
    height: usize,
    width: usize,
    channels: usize,
) -> Result<(), MapError> {
    if channels != 1 && channels != 3 {
        return Err(MapError::Channels {
            what,
            expected: "1 (grey) or 3 (colour)",
            got: channels,
        });
    }
    if height < 2 || width < 2 {
        return Err(MapError::ImageTooSmall {
            what,
            h: height,
            w: width,
            min: 2,
        });
    }
    Ok(())
}

/// A saliency map: OpenCV's 8-bit output `out` (the float map is `out · fl32(1/255)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaliencyMap {
    height: usize,
    width: usize,
    values: Vec<u8>,
}

impl SaliencyMap {
    /// Rows.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Columns.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The 8-bit values, row-major — what SaliencyMix's `(map·255).astype(uint8)` recovers.
    pub fn values(&self) -> &[u8] {
        &self.values
    }

    /// The value at row `y`, column `x`.
    pub fn get(&self, y: usize, x: usize) -> u8 {
        self.values[y * self.width + x]
    }

    /// OpenCV's float32 map, `out · fl32(1/255)`, row-major, in `[0, 1]`.
    pub fn to_f32(&self) -> Vec<f32> {
        let scale = 1.0f32 / 255.0;
        self.values.iter().map(|&v| f32::from(v) * scale).collect()
    }

    /// `(row, column)` of the first maximum in row-major order (SaliencyMix's argmax).
    pub fn argmax(&self) -> (usize, usize) {
        let mut best = 0;
        for (i, &v) in self.values.iter().enumerate() {
            if v > self.values[best] {
                best = i;
            }
        }
        (best / self.width, best % self.width)
    }
}

/// The fine-grained static saliency of one 8-bit image, exactly as OpenCV computes it
/// (METHODS.md §9.1).
///
/// ```
/// use mixaug_maps::{ImageU8, fine_grained_saliency};
/// // A dark 24×32 grey image with a bright 4×4 block: the block's centre is maximal.
/// let (h, w) = (24, 32);
/// let mut pixels = vec![20u8; h * w];
/// for y in 8..12 {
///     pixels[y * w + 20..y * w + 24].fill(220);
/// }
/// let map = fine_grained_saliency(ImageU8::new(&pixels, h, w, 1).unwrap());
/// assert_eq!(map.get(9, 21), 255);
/// assert!(map.get(9, 18) < 60); // just outside the block, the surround is unremarkable
/// // A constant image has no salient point: all zeros (§9.1 step 6).
/// let flat = fine_grained_saliency(ImageU8::new(&[77u8; 20 * 20 * 3], 20, 20, 3).unwrap());
/// assert!(flat.values().iter().all(|&v| v == 0));
/// ```
pub fn fine_grained_saliency(image: ImageU8<'_>) -> SaliencyMap {
    let ImageU8 {
        pixels,
        height,
        width,
        channels,
    } = image;
    let grey: Vec<u8> = if channels == 1 {
        pixels.to_vec()
    } else {
        pixels
            .chunks_exact(3)
            .map(|p| grey_from_bgr(p[0], p[1], p[2]))
            .collect()
    };
    saliency_of_grey(&grey, height, width)
}

/// OpenCV's fixed-point BGR→grey conversion (15-bit coefficients summing to 2¹⁵).
fn grey_from_bgr(b: u8, g: u8, r: u8) -> u8 {
    ((3735 * u32::from(b) + 19235 * u32::from(g) + 9798 * u32::from(r) + 16384) >> 15) as u8
}

/// Steps 2–7 of §9.1 on a grey image.
fn saliency_of_grey(grey: &[u8], height: usize, width: usize) -> SaliencyMap {
    let g = blur(&blur(grey, height, width), height, width);
    let integral = integral_image(&g, height, width);
    let n_pix = height * width;
    let mut on_sum = vec![0u16; n_pix];
    let mut off_sum = vec![0u16; n_pix];
    let stride = width + 1;
    let clamp = |v: isize, hi: usize| v.clamp(0, hi as isize) as usize;
    for n in SALIENCY_SCALES {
        let n = n as isize;
        for y in 0..height {
            let (y1, y2) = (
                clamp(y as isize - n + 1, height),
                clamp(y as isize + n + 1, height),
            );
            for x in 0..width {
                let (x1, x2) = (
                    clamp(x as isize - n + 1, width),
                    clamp(x as isize + n + 1, width),
                );
                let sum = integral[y2 * stride + x2] + integral[y1 * stride + x1]
                    - integral[y2 * stride + x1]
                    - integral[y1 * stride + x2];
                let area = ((x2 - x1) * (y2 - y1)) as f32;
                let centre = f32::from(g[y * width + x]);
                let mean = (sum - centre) / (area - 1.0);
                let (on, off) = (centre - mean, mean - centre);
                let k = y * width + x;
                if on > 0.0 {
                    on_sum[k] += on as u8 as u16;
                }
                if off > 0.0 {
                    off_sum[k] += off as u8 as u16;
                }
            }
        }
    }
    let on = stretch(&on_sum);
    let off = stretch(&off_sum);
    let top = on.iter().chain(&off).copied().max().unwrap_or(0);
    let values = if top == 0 {
        vec![0; n_pix]
    } else {
        let top = f64::from(top);
        on.iter()
            .zip(&off)
            .map(|(&a, &b)| {
                // x86 float→uchar keeps the low byte: values above 255 wrap (vector C).
                (255.0 * f64::from(u16::from(a) + u16::from(b)) / top) as i64 as u8
            })
            .collect()
    };
    SaliencyMap {
        height,
        width,
        values,
    }
}

/// `trunc(255 · fl32(v / max v))` per pixel (0 everywhere when the maximum is 0: OpenCV's
/// 0/0 is NaN, stored as 0 on x86).
fn stretch(sums: &[u16]) -> Vec<u8> {
    let max = sums.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return vec![0; sums.len()];
    }
    let max = f32::from(max);
    sums.iter()
        .map(|&s| (255.0 * f64::from(f32::from(s) / max)) as u8)
        .collect()
}

/// OpenCV's 3×3 Gaussian (σ = 0: `[1, 2, 1]/4` each way) on uint8 with `REFLECT_101`
/// borders: `(S + 8) >> 4`, exact.
fn blur(src: &[u8], height: usize, width: usize) -> Vec<u8> {
    let reflect = |i: isize, n: usize| -> usize {
        if i < 0 {
            (-i) as usize
        } else if i as usize >= n {
            2 * n - 2 - i as usize
        } else {
            i as usize
        }
    };
    let mut out = vec![0u8; src.len()];
    for y in 0..height {
        let rows = [-1isize, 0, 1].map(|d| reflect(y as isize + d, height) * width);
        for x in 0..width {
            let cols = [-1isize, 0, 1].map(|d| reflect(x as isize + d, width));
            let mut sum = 0u32;
            for (ky, &r) in [1u32, 2, 1].iter().zip(&rows) {
                for (kx, &c) in [1u32, 2, 1].iter().zip(&cols) {
                    sum += ky * kx * u32::from(src[r + c]);
                }
            }
            out[y * width + x] = ((sum + 8) >> 4) as u8;
        }
    }
    out
}

/// The float32 integral image, `(H+1)×(W+1)` with a zero first row and column, each entry
/// the float32 sum of the entry above and the exact integer prefix of its row.
fn integral_image(g: &[u8], height: usize, width: usize) -> Vec<f32> {
    let stride = width + 1;
    let mut integral = vec![0f32; (height + 1) * stride];
    for y in 0..height {
        let mut prefix = 0u32;
        for x in 0..width {
            prefix += u32::from(g[y * width + x]);
            integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1] + prefix as f32;
        }
    }
    integral
}

/// How images were normalised, so the saliency routine can see them as 8-bit pixels
/// again: `pixel = round(clamp((x·std + mean)·255, 0, 255))` per channel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PixelNormalization {
    /// Per-channel mean, in `[0, 1]` units (torchvision's convention).
    pub mean: [f32; 3],
    /// Per-channel standard deviation, in `[0, 1]` units.
    pub std: [f32; 3],
}

impl PixelNormalization {
    /// Images already in `[0, 1]` (mean 0, std 1).
    pub const UNIT: Self = Self {
        mean: [0.0; 3],
        std: [1.0; 3],
    };
    /// ImageNet's mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225).
    pub const IMAGENET: Self = Self {
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
    };

    /// The 8-bit value of normalised value `x` in channel `c`.
    fn pixel(&self, x: f32, c: usize) -> u8 {
        ((x * self.std[c] + self.mean[c]) * 255.0)
            .round()
            .clamp(0.0, 255.0) as u8
    }
}

impl Default for PixelNormalization {
    fn default() -> Self {
        Self::UNIT
    }
}

/// The saliency maps of a normalised RGB (or grey) batch, one per image, computed in
/// parallel on the host.
///
/// The batch is brought to the host once and mapped by [`host_saliency_maps`].
///
/// # Shapes
/// - `images`: `[N, C, H, W]` with `C` ∈ {1, 3}
///
/// # Errors
/// [`MapError::Channels`] for other channel counts, [`MapError::ImageTooSmall`] below 2×2.
pub fn saliency_maps(
    images: Tensor<4>,
    norm: &PixelNormalization,
) -> Result<Vec<SaliencyMap>, MapError> {
    let shape = images.dims();
    let [_, c, h, w] = shape;
    check_image("fine-grained saliency", h, w, c)?;
    let values = images
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| MapError::ShapeMismatch {
            what: "saliency images",
            expected: "float pixels".into(),
            got: format!("{e:?}"),
        })?;
    host_saliency_maps(&values, shape, norm)
}

/// The saliency maps of a normalised RGB (or grey) batch held on the host (`values` in
/// NCHW order, e.g. a loader's batch before it is uploaded), one per image: de-normalised
/// to 8-bit pixels with `norm`, read as B, G, R (the channels are R, G, B, so OpenCV's grey
/// weights fall on the right channels — the SaliencyMix reference feeds RGB as if it were
/// BGR, METHODS.md §8) and mapped image by image on rayon's thread pool.
///
/// # Shapes
/// - `values`: `N·C·H·W` values of a `shape = [N, C, H, W]` batch, `C` ∈ {1, 3}
///
/// # Errors
/// [`MapError::Channels`] for other channel counts, [`MapError::ImageTooSmall`] below 2×2,
/// [`MapError::ShapeMismatch`] when `values` does not hold `shape`.
pub fn host_saliency_maps(
    values: &[f32],
    [n, c, h, w]: [usize; 4],
    norm: &PixelNormalization,
) -> Result<Vec<SaliencyMap>, MapError> {
    check_image("fine-grained saliency", h, w, c)?;
    if values.len() != n * c * h * w {
        return Err(MapError::ShapeMismatch {
            what: "saliency images",
            expected: format!("{} values ([{n}, {c}, {h}, {w}])", n * c * h * w),
            got: format!("{} values", values.len()),
        });
    }
    let plane = h * w;
    Ok(values
        .par_chunks(c * plane)
        .map(|img| {
            let grey: Vec<u8> = if c == 1 {
                img.iter().map(|&v| norm.pixel(v, 0)).collect()
            } else {
                (0..plane)
                    .map(|k| {
                        let [r, g, b] = [0, 1, 2].map(|ch| norm.pixel(img[ch * plane + k], ch));
                        grey_from_bgr(b, g, r)
                    })
                    .collect()
            };
            saliency_of_grey(&grey, h, w)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_a() -> Vec<u8> {
        let mut v = Vec::new();
        for y in 0..12i64 {
            for x in 0..16i64 {
                v.push((7 * x + 13 * y + 3 * x * y).rem_euclid(256) as u8);
                v.push((255 - 11 * x + 5 * y * y).rem_euclid(256) as u8);
                v.push((x * x + 17 * y).rem_euclid(256) as u8);
            }
        }
        v
    }

    #[rustfmt::skip]
    const VECTOR_A_OUT: [u8; 192] = [
         74,  34,  37,  68,  56,  43,  24,  18,  12,  12,  12,  18,  23,  35,  34,  33,
        131,  84,   6,  43,  56,  62,  62,  56,  49,  49,  56,  62,  67,  66,  46,  33,
        228, 181,  97,  46,  13,  43,  99, 118, 137, 156, 156, 162, 167, 141,  71,  27,
        255, 231, 188, 150, 104,  40,  12,  87, 168, 224, 237, 243, 255, 210,  90,  20,
        191, 191, 188, 181, 154, 114,  73,  23,  68, 137, 149, 193, 248, 216,  84,  10,
         84,  87,  97, 104, 100,  93,  83,  60,  33,  16,  10,  43, 117,  91,   8,  39,
         23,  17,   0,   3,  10,  13,  13,  13,  16,  23,  26,  16,  20,  51,  92, 106,
         68,  62,  49,  37,  24,  43,  87, 118, 118, 106,  68,   3,  54,  91, 102, 102,
         30,  31,  18,   0,   6,  12,  99, 168, 193, 174,  93,  23,  87,  88,  48,  25,
         93,  87,  74,  49,   6,  12,  68, 124, 149, 124,  12,  77, 124,  91,  18,  27,
        193, 187, 168, 118,  68,  37,  49,  74, 106,  93,   3,  73,  97,  64,   5,  39,
        224, 218, 193, 137,  81,  43,  43,  62,  99,  99,  12,  46,  60,  38,   1,  33,
    ];

    fn sum(map: &SaliencyMap) -> u64 {
        map.values().iter().map(|&v| u64::from(v)).sum()
    }

    #[test]
    fn golden_vector_a_bgr_12x16() {
        // METHODS.md §9.2, vector A (OpenCV 4.2.0.32 and 4.14.0).
        let px = vector_a();
        let map = fine_grained_saliency(ImageU8::new(&px, 12, 16, 3).unwrap());
        assert_eq!(map.values(), &VECTOR_A_OUT[..]);
        assert_eq!(map.argmax(), (3, 0));
        assert_eq!(sum(&map), 15669);
        // The float map is out·fl32(1/255), and ·255 truncated gives `out` back (§9.1 step 7).
        let f = map.to_f32();
        for (v, o) in f.iter().zip(map.values()) {
            assert_eq!(*v, f32::from(*o) * (1.0f32 / 255.0));
            assert_eq!((v * 255.0) as u8, *o);
        }
    }

    #[test]
    fn golden_vector_b_grey_40x40() {
        let px: Vec<u8> = (0..40u32)
            .flat_map(|y| {
                (0..40u32).map(move |x| ((3 * x * x + 5 * y * y + 7 * x * y) % 251) as u8)
            })
            .collect();
        let map = fine_grained_saliency(ImageU8::new(&px, 40, 40, 1).unwrap());
        assert_eq!(map.argmax(), (0, 0));
        assert_eq!(sum(&map), 64433);
        assert_eq!(
            &map.values()[..10],
            &[255, 243, 210, 165, 105, 36, 25, 29, 5, 11]
        );
        assert_eq!(
            &map.values()[20 * 40 + 15..20 * 40 + 25],
            &[16, 60, 113, 112, 112, 112, 55, 16, 27, 0]
        );
    }

    #[test]
    fn golden_vector_c_wraps_mod_256() {
        let (h, w) = (164usize, 127usize);
        let mut px = vec![0u8; h * w];
        for (r2, value) in [(38 * 38, 232u8), (16, 36), (1, 202)] {
            for y in 0..h {
                for x in 0..w {
                    let (dy, dx) = (y as i64 - 83, x as i64 - 113);
                    if dy * dy + dx * dx < r2 {
                        px[y * w + x] = value;
                    }
                }
            }
        }
        let map = fine_grained_saliency(ImageU8::new(&px, h, w, 1).unwrap());
        assert_eq!(map.argmax(), (111, 91));
        assert_eq!(sum(&map), 1368143);
        #[rustfmt::skip]
        let expected: [[u8; 7]; 7] = [
            [137, 148, 168, 174, 169, 148, 130],
            [149, 210, 242, 247, 245, 215, 148],
            [167, 241, 254, 247,   1, 246, 169],
            [173, 244, 246, 234, 249, 250, 177],
            [167, 241, 254, 247,   1, 245, 169],
            [149, 210, 242, 247, 245, 215, 148],
            [137, 148, 168, 174, 169, 148, 130],
        ];
        for (dy, row) in expected.iter().enumerate() {
            for (dx, &v) in row.iter().enumerate() {
                assert_eq!(
                    map.get(80 + dy, 110 + dx),
                    v,
                    "at ({}, {})",
                    80 + dy,
                    110 + dx
                );
            }
        }
    }

    #[test]
    fn golden_vector_d_constant_is_zero() {
        let map = fine_grained_saliency(ImageU8::new(&[77u8; 20 * 20 * 3], 20, 20, 3).unwrap());
        assert!(map.values().iter().all(|&v| v == 0));
        assert_eq!(map.argmax(), (0, 0));
    }

    #[test]
    fn bad_images_are_typed_errors() {
        assert!(matches!(
            ImageU8::new(&[0u8; 16 * 4], 4, 4, 4),
            Err(MapError::Channels { got: 4, .. })
        ));
        assert!(matches!(
            ImageU8::new(&[0u8; 5], 1, 5, 1),
            Err(MapError::ImageTooSmall { h: 1, w: 5, .. })
        ));
        assert!(matches!(
            ImageU8::new(&[0u8; 10], 3, 4, 1),
            Err(MapError::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn grey_conversion_is_opencvs_fixed_point() {
        // Hand computation: (3735·10 + 19235·20 + 9798·30 + 16384) >> 15
        // = (37350 + 384700 + 293940 + 16384) >> 15 = 732374 >> 15 = 22.
        assert_eq!(grey_from_bgr(10, 20, 30), 22);
        assert_eq!(grey_from_bgr(255, 255, 255), 255);
    }
}

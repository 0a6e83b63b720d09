//! Small raster helpers for the pictures the CLI writes: tensors ↔ RGB images and text.

use anyhow::{Context, Result, ensure};
use burn::prelude::*;
use font8x8::UnicodeFonts;
use image::{Rgb, RgbImage, imageops::FilterType};
use std::path::Path;

/// Per-channel normalisation `(x/255 − mean)/std`, the form every data pipeline uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalization {
    /// Channel means of `x/255`.
    pub mean: [f32; 3],
    /// Channel standard deviations of `x/255`.
    pub std: [f32; 3],
}

impl Normalization {
    /// ImageNet statistics (torchvision).
    pub const IMAGENET: Self = Self {
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
    };

    /// Checks that every standard deviation is positive and finite.
    pub fn validate(&self) -> Result<()> {
        ensure!(
            self.std.iter().all(|s| s.is_finite() && *s > 0.0),
            "normalisation std must be positive, got {:?}",
            self.std
        );
        Ok(())
    }
}

/// Reads a PNG or JPEG photo and resizes it to fill `height × width` (scaled to cover,
/// then centre-cropped).
pub fn load_photo(path: &Path, height: u32, width: u32) -> Result<RgbImage> {
    let img = image::open(path).with_context(|| format!("cannot read image {}", path.display()))?;
    Ok(img
        .resize_to_fill(width, height, FilterType::Triangle)
        .to_rgb8())
}

/// Photos of equal size as a normalised batch.
///
/// # Shapes
/// - output: `[N, 3, H, W]`
pub fn photos_to_batch(photos: &[RgbImage], norm: Normalization, device: &Device) -> Tensor<4> {
    let (w, h) = photos[0].dimensions();
    let (w, h) = (w as usize, h as usize);
    let mut data = Vec::with_capacity(photos.len() * 3 * h * w);
    for photo in photos {
        for c in 0..3 {
            data.extend(
                photo
                    .pixels()
                    .map(|p| (p[c] as f32 / 255.0 - norm.mean[c]) / norm.std[c]),
            );
        }
    }
    Tensor::from_data(TensorData::new(data, [photos.len(), 3, h, w]), device)
}

/// One normalised image back to RGB (values clamped to the displayable range).
///
/// # Shapes
/// - `image`: `[3, H, W]`
pub fn tensor_to_photo(image: Tensor<3>, norm: Normalization) -> Result<RgbImage> {
    let [_, h, w] = image.dims();
    let values: Vec<f32> = image.into_data().try_into_vec_as::<f32>()?;
    Ok(RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let at = |c: usize| values[(c * h + y as usize) * w + x as usize];
        let px = |c: usize| {
            ((at(c) * norm.std[c] + norm.mean[c]) * 255.0)
                .round()
                .clamp(0.0, 255.0) as u8
        };
        Rgb([px(0), px(1), px(2)])
    }))
}

/// A grey picture of a map with values in `[0, 1]` (1 = white).
///
/// # Shapes
/// - `map`: `[H, W]`
pub fn map_to_photo(map: Tensor<2>) -> Result<RgbImage> {
    let [h, w] = map.dims();
    let values: Vec<f32> = map.into_data().try_into_vec_as::<f32>()?;
    Ok(RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let v = (values[y as usize * w + x as usize] * 255.0)
            .round()
            .clamp(0.0, 255.0) as u8;
        Rgb([v, v, v])
    }))
}

/// The photo, darkened, with `heat(x, y)` ∈ [0, 1] laid over it in red (3/4 opacity at 1).
pub fn heat_overlay(photo: &RgbImage, heat: impl Fn(u32, u32) -> f32) -> RgbImage {
    RgbImage::from_fn(photo.width(), photo.height(), |x, y| {
        let a = heat(x, y).clamp(0.0, 1.0) * 0.75;
        let p = photo.get_pixel(x, y);
        let base = |c: usize| f32::from(p[c]) * 0.6 * (1.0 - a);
        Rgb([
            (base(0) + 255.0 * a).round() as u8,
            base(1).round() as u8,
            base(2).round() as u8,
        ])
    })
}

/// Writes `text` with the 8×8 public-domain bitmap font, each font pixel drawn as a
/// `scale × scale` square, top-left corner at `(x, y)`. Characters the font lacks are
/// drawn as `?`; pixels outside the canvas are skipped.
pub fn draw_text(canvas: &mut RgbImage, x: u32, y: u32, text: &str, scale: u32, color: Rgb<u8>) {
    let fallback = font8x8::BASIC_FONTS.get('?').unwrap_or([0; 8]);
    for (i, ch) in text.chars().enumerate() {
        let glyph = font8x8::BASIC_FONTS.get(ch).unwrap_or(fallback);
        let left = x + i as u32 * 8 * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8u32 {
                if bits >> col & 1 == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (left + col * scale + dx, y + row as u32 * scale + dy);
                        if px < canvas.width() && py < canvas.height() {
                            canvas.put_pixel(px, py, color);
                        }
                    }
                }
            }
        }
    }
}

/// Saves a PNG atomically: written beside the destination, then renamed over it.
pub fn save_png(image: &RgbImage, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let partial = path.with_extension("png.partial");
    image
        .save_with_format(&partial, image::ImageFormat::Png)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("cannot move into {}", path.display()))?;
    Ok(())
}

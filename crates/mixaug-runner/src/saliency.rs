//! `mixaug saliency`: the fine-grained saliency map of photos, and an overlay.

use anyhow::{Result, ensure};
use image::{Rgb, RgbImage};
use mixaug_maps::{ImageU8, SaliencyMap, fine_grained_saliency};

use crate::render::heat_overlay;

/// A photo's saliency as pictures.
#[derive(Debug, Clone)]
pub struct SaliencyPicture {
    /// The 8-bit map as a grey picture (OpenCV's `out`).
    pub map: RgbImage,
    /// The photo, darkened, with the map in red on top and a white cross on the peak.
    pub overlay: RgbImage,
    /// The first row-major maximum `(row, column)` — SaliencyMix's box centre.
    pub peak: (usize, usize),
}

/// The fine-grained static saliency of an RGB photo (read as B, G, R bytes, as OpenCV
/// reads a `cv2.imread` image), exactly as OpenCV's `StaticSaliencyFineGrained`.
pub fn saliency_of_photo(photo: &RgbImage) -> Result<SaliencyMap> {
    let (w, h) = photo.dimensions();
    ensure!(
        w >= 2 && h >= 2,
        "saliency needs at least 2×2 pixels, got {h}×{w}"
    );
    let bgr: Vec<u8> = photo.pixels().flat_map(|p| [p[2], p[1], p[0]]).collect();
    Ok(fine_grained_saliency(ImageU8::new(
        &bgr, h as usize, w as usize, 3,
    )?))
}

/// The map, the overlay and the peak of a photo.
pub fn saliency_picture(photo: &RgbImage) -> Result<SaliencyPicture> {
    let map = saliency_of_photo(photo)?;
    let grey = RgbImage::from_fn(photo.width(), photo.height(), |x, y| {
        let v = map.get(y as usize, x as usize);
        Rgb([v, v, v])
    });
    let peak = map.argmax();
    let mut overlay = heat_overlay(photo, |x, y| {
        f32::from(map.get(y as usize, x as usize)) / 255.0
    });
    let (py, px) = (peak.0 as i64, peak.1 as i64);
    for d in -4i64..=4 {
        for (x, y) in [(px + d, py), (px, py + d)] {
            if (0..overlay.width() as i64).contains(&x) && (0..overlay.height() as i64).contains(&y)
            {
                overlay.put_pixel(x as u32, y as u32, Rgb([255, 255, 255]));
            }
        }
    }
    Ok(SaliencyPicture {
        map: grey,
        overlay,
        peak,
    })
}

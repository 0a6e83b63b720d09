//! `mixaug gallery`: one picture showing what mixing methods do to a few photos.

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use burn::prelude::*;
use burn::tensor::module::adaptive_avg_pool2d;
use image::{Rgb, RgbImage, imageops};
use mixaug_maps::{PixelNormalization, saliency_maps};
use mixaug_masks::{BatchShape, Guide, MixConfig, MixRng, Mixer, Needs, Pairing, PairingSchedule};

use crate::render::{
    Normalization, draw_text, load_photo, map_to_photo, photos_to_batch, tensor_to_photo,
};

/// What to draw.
#[derive(Debug, Clone)]
pub struct GalleryOptions {
    /// Two or more photos (PNG or JPEG).
    pub images: Vec<PathBuf>,
    /// The methods, one row each.
    pub methods: Vec<MixConfig>,
    /// Seed of the draws.
    pub seed: u64,
    /// Size every photo is resized to, `(height, width)`.
    pub size: (u32, u32),
    /// Normalisation applied before mixing and undone for display.
    pub normalization: Normalization,
}

const GAP: u32 = 4;
const TITLE: u32 = 20;
const CAPTION: u32 = 12;
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const GREY: Rgb<u8> = Rgb([190, 190, 190]);

/// Renders the gallery: a row with the source photos, then per method one row holding,
/// for every photo, the mixed image and its mask (white = pixels of the photo itself,
/// black = pixels of its partner), captioned with the label weights.
///
/// Each photo's partner is the previous photo (`Pairing::Roll { shift: 1 }`), so every
/// row shows mixing even with two photos.
///
/// When a saliency-guided or model-guided method is shown, a row of the photos' saliency
/// maps follows the sources. The gallery has no trained model, so SnapMix and
/// AttentiveMix are guided by that saliency as a stand-in (normalised to sum 1 for
/// SnapMix's percent maps, averaged over a 7×7 grid for AttentiveMix's attention), and
/// their rows say so. TransMix's images are CutMix's; its label is re-weighted by a
/// stand-in for a ViT's class-token attention on the mixed images — the fine-grained
/// saliency of the mixed images averaged over each patch — and its caption gives the
/// re-weighted label, then the area weight of the base photo.
pub fn render_gallery(options: &GalleryOptions, device: &Device) -> Result<RgbImage> {
    let n = options.images.len();
    ensure!(n >= 2, "the gallery needs at least two images, got {n}");
    options.normalization.validate()?;
    let (h, w) = options.size;
    ensure!(
        h >= 2 && w >= 2,
        "image size must be at least 2×2, got {h}×{w}"
    );
    let photos = options
        .images
        .iter()
        .map(|p| load_photo(p, h, w))
        .collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = options
        .images
        .iter()
        .map(|p| {
            p.file_stem()
                .map_or_else(|| "?".into(), |s| s.to_string_lossy().into_owned())
        })
        .collect();
    let norm = options.normalization;
    let batch = photos_to_batch(&photos, norm, device);
    let labels = Tensor::<1, Int>::arange(0..n as i64, device);
    let shape = BatchShape::new(n, 3, h as usize, w as usize);

    let pixels = PixelNormalization {
        mean: norm.mean,
        std: norm.std,
    };
    let guided = options.methods.iter().any(|m| m.needs() != Needs::Nothing);
    let saliency = if guided {
        let maps = saliency_maps(batch.clone(), &pixels)?;
        let values: Vec<f32> = maps.iter().flat_map(|m| m.to_f32()).collect();
        Some(Tensor::<3>::from_data(
            TensorData::new(values, [n, h as usize, w as usize]),
            device,
        ))
    } else {
        None
    };

    let columns = 2 * n as u32;
    let row_height = TITLE + h + CAPTION + GAP;
    let extra_rows = u32::from(saliency.is_some());
    let mut canvas = RgbImage::from_pixel(
        columns * (w + GAP) + GAP,
        (1 + extra_rows + options.methods.len() as u32) * row_height + GAP,
        Rgb([24, 24, 24]),
    );
    draw_text(
        &mut canvas,
        GAP,
        GAP + 2,
        &format!("sources (seed {})", options.seed),
        2,
        WHITE,
    );
    for (i, photo) in photos.iter().enumerate() {
        let x = GAP + i as u32 * (w + GAP);
        imageops::replace(&mut canvas, photo, x as i64, (GAP + TITLE) as i64);
        draw_text(&mut canvas, x, GAP + TITLE + h + 2, &names[i], 1, GREY);
    }
    if let Some(maps) = &saliency {
        let top = GAP + row_height;
        draw_text(&mut canvas, GAP, top + 2, "fine-grained saliency", 2, WHITE);
        for i in 0..n {
            let map = maps
                .clone()
                .slice(s![i..i + 1])
                .reshape([h as usize, w as usize]);
            let x = GAP + i as u32 * (w + GAP);
            imageops::replace(
                &mut canvas,
                &map_to_photo(map)?,
                x as i64,
                (top + TITLE) as i64,
            );
        }
    }

    for (row, config) in options.methods.iter().enumerate() {
        let mut config = config.clone();
        config.set_pairing(Pairing::Roll { shift: 1 });
        match &mut config {
            // The draws are those of epoch 0, where the paper's schedule is still off: show
            // what the method does when it is on.
            MixConfig::SamplePairing(c) if !c.schedule.is_on(0) => {
                c.schedule = PairingSchedule::always();
            }
            MixConfig::SaliencyMix(c) => c.normalization = pixels,
            MixConfig::TransMix(c) => c.patch_size = dividing_patch(c.patch_size, h, w),
            _ => {}
        }
        let method = config
            .init()
            .with_context(|| format!("invalid configuration for {}", config.label()))?;
        let params = method.sample(&mut MixRng::from_seed(options.seed), shape)?;
        // The guide is fixed once: the mask below is drawn by mixing an indicator batch
        // with the same guide.
        let guide = match method.device_guide(&params, &batch)? {
            Some(guide) => guide,
            None => saliency
                .as_ref()
                .map_or(Guide::None, |maps| stand_in_guide(method.needs(), maps)),
        };
        let mixed = method.apply(&params, batch.clone(), labels.clone(), &guide)?;
        // TransMix: the area weights of the base photos, and the target re-weighted by the
        // stand-in attention.
        let (target, area) = match &config {
            MixConfig::TransMix(c) => {
                let attention = stand_in_attention(&mixed.images, &pixels, c.patch_size)?;
                let area: Vec<f32> = mixed.target.weights().into_data().try_into_vec_as()?;
                (method.retarget(&params, &mixed, attention)?, Some(area))
            }
            _ => (mixed.target.clone(), None),
        };
        let classes: Vec<i64> = target.classes().into_data().try_into_vec_as::<i64>()?;
        let weights: Vec<f32> = target.weights().into_data().try_into_vec_as::<f32>()?;
        let k = target.num_sources();
        let top = GAP + (row as u32 + 1 + extra_rows) * row_height;
        let title = match method.needs() {
            Needs::Nothing | Needs::SaliencyPeaks => config.label().to_string(),
            // At font scale 2 a title holds 48 characters of the 788-pixel default width.
            Needs::PercentMaps | Needs::Attention => {
                format!("{} (saliency guide, untrained)", config.label())
            }
            Needs::ClassAttention => format!("{} (label: saliency per patch)", config.label()),
        };
        draw_text(&mut canvas, GAP, top + 2, &title, 2, WHITE);
        for i in 0..n {
            // The mask of sample i: mix a batch that is 1 on sample i and 0 elsewhere.
            let indicator = Tensor::<1, Int>::arange(0..n as i64, device)
                .equal_elem(i as i64)
                .float()
                .reshape([n, 1, 1, 1])
                .expand([n, 3, h as usize, w as usize]);
            let mask = method
                .apply(&params, indicator, labels.clone(), &guide)?
                .images
                .slice(s![i..i + 1, 0..1])
                .reshape([h as usize, w as usize]);
            let image = mixed
                .images
                .clone()
                .slice(s![i..i + 1])
                .reshape([3, h as usize, w as usize]);
            let x = GAP + 2 * i as u32 * (w + GAP);
            imageops::replace(
                &mut canvas,
                &tensor_to_photo(image, norm)?,
                x as i64,
                (top + TITLE) as i64,
            );
            imageops::replace(
                &mut canvas,
                &map_to_photo(mask)?,
                (x + w + GAP) as i64,
                (top + TITLE) as i64,
            );
            let caption: Vec<String> = (0..k)
                .map(|j| (classes[i * k + j], weights[i * k + j]))
                .filter(|&(_, wt)| wt != 0.0)
                .map(|(c, wt)| format!("{} {wt:.3}", names[c as usize]))
                .collect();
            let mut caption = caption.join(" + ");
            if let Some(area) = &area {
                caption.push_str(&format!(" (area {:.3})", area[i * k]));
            }
            draw_text(&mut canvas, x, top + TITLE + h + 2, &caption, 1, GREY);
        }
    }
    Ok(canvas)
}

/// The saliency maps standing in for a model-guided method's maps: normalised to sum 1
/// per image (SnapMix's percent maps; uniform for an all-zero map) or averaged over a 7×7
/// grid (AttentiveMix's attention).
///
/// # Shapes
/// - `saliency`: `[N, H, W]`
fn stand_in_guide(needs: Needs, saliency: &Tensor<3>) -> Guide {
    let [n, h, w] = saliency.dims();
    match needs {
        Needs::Nothing | Needs::SaliencyPeaks | Needs::ClassAttention => Guide::None,
        Needs::PercentMaps => {
            let shifted = saliency.clone().add_scalar(1e-6);
            let total = shifted.clone().sum_dim(2).sum_dim(1);
            Guide::PercentMaps(shifted / total)
        }
        Needs::Attention => Guide::Attention(
            adaptive_avg_pool2d(saliency.clone().reshape([n, 1, h, w]), [7, 7]).reshape([n, 7, 7]),
        ),
    }
}

/// The stand-in for a ViT's class-token attention on the mixed images: their fine-grained
/// saliency averaged over each `patch × patch` patch, as one head.
///
/// # Shapes
/// - `mixed`: `[N, 3, H, W]` with `H`, `W` multiples of `patch`; output `[N, 1, (H/p)·(W/p)]`
fn stand_in_attention(
    mixed: &Tensor<4>,
    pixels: &PixelNormalization,
    patch: usize,
) -> Result<Tensor<3>> {
    let [n, _, h, w] = mixed.dims();
    let values: Vec<f32> = saliency_maps(mixed.clone(), pixels)?
        .iter()
        .flat_map(|m| m.to_f32())
        .collect();
    let (gh, gw) = (h / patch, w / patch);
    let maps = Tensor::<4>::from_data(TensorData::new(values, [n, 1, h, w]), &mixed.device());
    Ok(adaptive_avg_pool2d(maps, [gh, gw]).reshape([n, 1, gh * gw]))
}

/// TransMix's patch side for `h × w` photos: `patch` when it divides both sides, else the
/// largest side below it that does (1 at worst).
fn dividing_patch(patch: usize, h: u32, w: u32) -> usize {
    let (h, w) = (h as usize, w as usize);
    (1..=patch.max(1))
        .rev()
        .find(|p| h.is_multiple_of(*p) && w.is_multiple_of(*p))
        .unwrap_or(1)
}

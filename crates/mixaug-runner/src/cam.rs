//! `mixaug cam`: class activation maps of a trained ResNet over photos.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use burn::prelude::*;
use image::{RgbImage, imageops};
use mixaug_maps::{
    CamModel, CamStatistics, class_activation_maps, last_stage_features, percent_maps,
};
use mixaug_models::{BlockKind, ImportOptions, ResNet, ResNetConfig, load_pytorch};

use crate::render::{Normalization, heat_overlay, photos_to_batch};

/// Which ResNet a checkpoint holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ResNetSpec {
    /// Block type.
    pub block: BlockKind,
    /// Blocks per stage.
    pub layers: [usize; 4],
    /// Stem and first-stage channels (64 for torchvision's networks).
    pub base_width: usize,
    /// Classes of the classifier.
    pub num_classes: usize,
}

impl ResNetSpec {
    /// `resnet18`, `resnet34`, `resnet50` or `resnet101` with `num_classes` classes.
    pub fn named(name: &str, num_classes: usize) -> Result<Self> {
        let (block, layers) = match name {
            "resnet18" => (BlockKind::Basic, [2, 2, 2, 2]),
            "resnet34" => (BlockKind::Basic, [3, 4, 6, 3]),
            "resnet50" => (BlockKind::Bottleneck, [3, 4, 6, 3]),
            "resnet101" => (BlockKind::Bottleneck, [3, 4, 23, 3]),
            other => bail!(
                "unknown architecture `{other}`: expected resnet18, resnet34, resnet50 or resnet101"
            ),
        };
        Ok(Self {
            block,
            layers,
            base_width: 64,
            num_classes,
        })
    }

    /// The network (ImageNet stem) with the checkpoint's weights, loaded strictly.
    pub fn load(&self, checkpoint: &Path, device: &Device) -> Result<ResNet> {
        let mut model = ResNetConfig::new(self.block, self.layers, self.num_classes)
            .with_base_width(self.base_width)
            .init(device);
        load_pytorch(&mut model, checkpoint, &ImportOptions::default())
            .with_context(|| format!("loading {}", checkpoint.display()))?;
        Ok(model)
    }
}

/// One photo's CAM.
#[derive(Debug, Clone)]
pub struct CamPicture {
    /// The photo, darkened, with the normalised CAM in red on top.
    pub overlay: RgbImage,
    /// The class whose map is drawn.
    pub class: usize,
    /// The model's score (logit) for that class.
    pub score: f32,
}

/// The CAM of each photo for `class`, or for the model's top prediction when `None`, with
/// running BatchNorm statistics (a trained model in evaluation), drawn at the photo's size.
pub fn cam_pictures(
    model: &ResNet,
    photos: &[RgbImage],
    class: Option<usize>,
    norm: Normalization,
    device: &Device,
) -> Result<Vec<CamPicture>> {
    ensure!(!photos.is_empty(), "no photo given");
    let (w, h) = photos[0].dimensions();
    let batch = photos_to_batch(photos, norm, device);
    let logits = model.forward(batch.clone());
    let [n, k] = logits.dims();
    if let Some(c) = class {
        ensure!(c < k, "class {c} is out of range for a {k}-class model");
    }
    let classes: Vec<i64> = match class {
        Some(c) => vec![c as i64; n],
        None => logits
            .clone()
            .argmax(1)
            .into_data()
            .try_into_vec_as::<i64>()?,
    };
    let scores: Vec<f32> = logits.into_data().try_into_vec_as::<f32>()?;
    let features = last_stage_features(model, batch, CamStatistics::Running)?;
    let index = Tensor::<1, Int>::from_data(TensorData::new(classes.clone(), [n]), device);
    let cams = class_activation_maps(features, &model.cam_classifier(), index)?;
    // Percent maps sum to 1; scale each to a maximum of 1 for display.
    let maps = percent_maps(cams, h as usize, w as usize);
    let maps = maps.clone() / maps.max_dim(2).max_dim(1);
    let values: Vec<f32> = maps.into_data().try_into_vec_as::<f32>()?;
    let plane = (h * w) as usize;
    Ok(photos
        .iter()
        .enumerate()
        .map(|(i, photo)| {
            let map = &values[i * plane..(i + 1) * plane];
            let overlay = heat_overlay(photo, |x, y| map[(y * w + x) as usize]);
            let class = classes[i] as usize;
            CamPicture {
                overlay,
                class,
                score: scores[i * k + class],
            }
        })
        .collect())
}

/// Reads a photo and brings it to `side × side`: shorter side resized to `side`, centre
/// crop (torchvision's evaluation transform without the 256/224 margin).
pub fn load_square(path: &Path, side: u32) -> Result<RgbImage> {
    let img = image::open(path)
        .with_context(|| format!("cannot read image {}", path.display()))?
        .to_rgb8();
    let side_in = img.width().min(img.height());
    let square = imageops::crop_imm(
        &img,
        (img.width() - side_in) / 2,
        (img.height() - side_in) / 2,
        side_in,
        side_in,
    )
    .to_image();
    Ok(imageops::resize(
        &square,
        side,
        side,
        imageops::FilterType::Triangle,
    ))
}

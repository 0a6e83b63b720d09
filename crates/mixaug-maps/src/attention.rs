//! Attention maps for Attentive CutMix and AttentiveMix+.
//!
//! Walawalkar, Shen, Liu, Savvides, *Attentive CutMix: An Enhanced Data Augmentation
//! Approach for Deep Learning Based Image Classification*, ICASSP 2020; reference code
//! xden2331/attentive_cutmix `attentive_transform.py`, and openmixup
//! `openmixup/models/augments/attentivemix.py`. Spec: METHODS.md §11.

use burn::prelude::*;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use serde::{Deserialize, Serialize};

use crate::{CamModel, CamStatistics, MapError, last_stage_features};

/// Which part of the last stage's features is the attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionChannel {
    /// The mean over channels (openmixup's AttentiveMix+).
    #[default]
    Mean,
    /// The last channel only (the original Attentive CutMix code).
    Last,
}

/// The attention grid of each sample from last-stage features.
///
/// # Shapes
/// - `features`: `[N, D, h, w]`
/// - output: `[N, h, w]`
///
/// # Example
/// ```
/// use burn::prelude::*;
/// use mixaug_maps::{AttentionChannel, attention_maps};
/// let device = Device::flex();
/// // One sample's last stage: 2 channels on a 2×3 grid.
/// let features = Tensor::<4>::from_floats(
///     [[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[3.0, 2.0, 1.0], [0.0, 1.0, 0.0]]]],
///     &device,
/// );
/// let mean = attention_maps(features.clone(), AttentionChannel::Mean);
/// let last = attention_maps(features, AttentionChannel::Last);
/// assert_eq!(mean.dims(), [1, 2, 3]);
/// // AttentiveMix+: the channel mean, (1 + 3)/2 = 2, …, (6 + 0)/2 = 3.
/// assert_eq!(mean.into_data().to_vec::<f32>().unwrap(), [2.0, 2.0, 2.0, 2.0, 3.0, 3.0]);
/// // The original Attentive CutMix: the last channel as it is.
/// assert_eq!(last.into_data().to_vec::<f32>().unwrap(), [3.0, 2.0, 1.0, 0.0, 1.0, 0.0]);
/// ```
pub fn attention_maps(features: Tensor<4>, channel: AttentionChannel) -> Tensor<3> {
    let [n, d, h, w] = features.dims();
    match channel {
        AttentionChannel::Mean => features.mean_dim(1),
        AttentionChannel::Last => features.slice(s![.., d - 1..d]),
    }
    .reshape([n, h, w])
}

/// How a frozen teacher network turns a batch into attention grids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttentionConfig {
    /// Which channel(s) make the attention. Default: the channel mean (AttentiveMix+).
    pub channel: AttentionChannel,
    /// The square side the batch is bilinearly resized to before the teacher sees it.
    /// Default 224 (both references; a 224 input gives ResNets a 7×7 grid); `None` feeds
    /// the batch as it is.
    pub input_size: Option<usize>,
    /// Which BatchNorm statistics the teacher uses. Default: running statistics (a frozen
    /// pretrained teacher); the original code left it in train mode (`Batch`).
    pub statistics: CamStatistics,
}

impl Default for AttentionConfig {
    fn default() -> Self {
        Self {
            channel: AttentionChannel::Mean,
            input_size: Some(224),
            statistics: CamStatistics::Running,
        }
    }
}

impl AttentionConfig {
    /// The teacher's attention grid for each image of the batch.
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    /// - output: `[N, h, w]` (the teacher's last-stage grid)
    ///
    /// # Errors
    /// [`MapError::InvalidParameter`] for an input size of 0, and as
    /// [`last_stage_features`].
    pub fn attention<M: CamModel>(
        &self,
        teacher: &M,
        images: Tensor<4>,
    ) -> Result<Tensor<3>, MapError> {
        let images = match self.input_size {
            Some(0) => {
                return Err(MapError::InvalidParameter {
                    name: "attention.input_size",
                    value: "0".into(),
                    expected: "a positive side in pixels, or none",
                });
            }
            Some(side) if images.dims()[2..] != [side, side] => interpolate(
                images,
                InterpolateOptions::new(InterpolateMode::Bilinear)
                    .with_align_corners(false)
                    .with_output_size([side, side]),
            ),
            _ => images,
        };
        let features = last_stage_features(teacher, images, self.statistics)?;
        Ok(attention_maps(features, self.channel))
    }
}

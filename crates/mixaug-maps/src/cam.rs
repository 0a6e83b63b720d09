//! Class activation maps and SnapMix's semantic percent maps.
//!
//! Zhou, Khosla, Lapedriza, Oliva, Torralba, *Learning Deep Features for Discriminative
//! Localization*, CVPR 2016 (CAM); Huang, Wang, Tao, *SnapMix: Semantically Proportional
//! Mixing for Augmenting Fine-grained Data*, AAAI 2021 (SPM), reference code
//! Shaoli-Huang/SnapMix `utils/mixmethod.py` (`get_spm`). Spec: METHODS.md §14.1.

use burn::prelude::*;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use serde::{Deserialize, Serialize};

use crate::MapError;

/// What a network exposes for class activation maps: its last convolutional stage and
/// its linear classifier on the globally pooled features.
pub trait CamModel: Module {
    /// The output of the last convolutional stage (torchvision's `layer4`, post-ReLU).
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    /// - output: `[N, D, h, w]`
    fn cam_features(&self, images: Tensor<4>) -> Tensor<4>;

    /// The classifier applied to the pooled features.
    fn cam_classifier(&self) -> CamClassifier;
}

/// A linear classifier as CAMs use it.
#[derive(Debug, Clone)]
pub struct CamClassifier {
    /// Weights in burn's `Linear` layout, `[D, K]` (PyTorch's is `[K, D]`).
    pub weight: Tensor<2>,
    /// Bias `[K]`, if the layer has one (it cancels in the percent map).
    pub bias: Option<Tensor<1>>,
}

impl CamClassifier {
    /// The weights and bias of a burn `Linear` layer (no copy: the tensors are shared).
    pub fn from_linear(linear: &burn::nn::Linear) -> Self {
        Self {
            weight: linear.weight.val(),
            bias: linear.bias.as_ref().map(|b| b.val()),
        }
    }

    /// Number of classes `K`.
    pub fn num_classes(&self) -> usize {
        self.weight.dims()[1]
    }
}

/// Which BatchNorm statistics the CAM forward uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CamStatistics {
    /// The batch's own statistics, as the SnapMix reference computes its maps (model in
    /// train mode under `no_grad`; running statistics are updated by this extra forward,
    /// as in the reference). Needs the model and images on an autodiff device.
    #[default]
    Batch,
    /// The running statistics (`model.valid()`), as openmixup's port does.
    Running,
}

/// The last-stage features of `images` with the chosen BatchNorm statistics, detached
/// from any autodiff graph.
///
/// # Shapes
/// - `images`: `[N, C, H, W]`
/// - output: `[N, D, h, w]`
///
/// # Errors
/// [`MapError::BatchStatisticsNeedAutodiff`] for [`CamStatistics::Batch`] with a model on a
/// plain device (its BatchNorm layers can only use running statistics there).
pub fn last_stage_features<M: CamModel>(
    model: &M,
    images: Tensor<4>,
    statistics: CamStatistics,
) -> Result<Tensor<4>, MapError> {
    match statistics {
        CamStatistics::Batch => {
            if !model.devices().iter().any(|d| d.is_autodiff()) {
                return Err(MapError::BatchStatisticsNeedAutodiff);
            }
            Ok(model.cam_features(images.autodiff().detach()).detach())
        }
        CamStatistics::Running => Ok(model.valid().cam_features(images.without_autodiff())),
    }
}

/// The class activation map of class `classes[i]` for sample `i`:
/// `CAM = Σ_d W[d, k]·ReLU(F_d) + b_k`, computed as one batched contraction.
///
/// # Shapes
/// - `features`: `[N, D, h, w]`
/// - `classes`: `[N]`
/// - output: `[N, h, w]`
///
/// # Errors
/// [`MapError::ShapeMismatch`] if `D` differs from the classifier's input size or `classes`
/// is not `[N]`, [`MapError::LabelOutOfRange`] for a class the classifier lacks.
pub fn class_activation_maps(
    features: Tensor<4>,
    classifier: &CamClassifier,
    classes: Tensor<1, Int>,
) -> Result<Tensor<3>, MapError> {
    let [n, d, h, w] = features.dims();
    let [d_in, k] = classifier.weight.dims();
    if d != d_in {
        return Err(MapError::ShapeMismatch {
            what: "CAM features",
            expected: format!("{d_in} channels (the classifier's input size)"),
            got: format!("{:?}", [n, d, h, w]),
        });
    }
    check_classes(&classes, n, k)?;
    let device = features.device();
    let classes = classes.to_device(&device);
    let weights = classifier
        .weight
        .clone()
        .to_device(&device)
        .select(1, classes.clone())
        .transpose()
        .reshape([n, 1, d]);
    let flat = features.clamp_min(0.0).reshape([n, d, h * w]);
    let mut cams = weights.matmul(flat).reshape([n, h, w]);
    if let Some(bias) = &classifier.bias {
        cams = cams
            + bias
                .clone()
                .to_device(&device)
                .select(0, classes)
                .reshape([n, 1, 1]);
    }
    Ok(cams)
}

/// Checks that `classes` holds `n` indices below `num_classes` (a small host read).
fn check_classes(classes: &Tensor<1, Int>, n: usize, num_classes: usize) -> Result<(), MapError> {
    if classes.dims() != [n] {
        return Err(MapError::ShapeMismatch {
            what: "CAM classes",
            expected: format!("[{n}] (one class per sample)"),
            got: format!("{:?}", classes.dims()),
        });
    }
    let values = classes
        .clone()
        .into_data()
        .try_into_vec_as::<i64>()
        .map_err(|e| MapError::ShapeMismatch {
            what: "CAM classes",
            expected: "integer class indices".into(),
            got: format!("{e:?}"),
        })?;
    match values
        .into_iter()
        .find(|&c| c < 0 || c as usize >= num_classes)
    {
        Some(label) => Err(MapError::LabelOutOfRange { label, num_classes }),
        None => Ok(()),
    }
}

/// Turns CAMs into semantic percent maps at the input size: bilinear upsampling
/// (align_corners = false, as PyTorch's default), then per sample
/// `SPM = (CAM − min CAM) / Σ(CAM − min CAM)` — non-negative, summing to 1.
///
/// A constant CAM has no preferred region: its map is uniform, `1/(H·W)` everywhere
/// (the limit of the formula; the reference divides 0 by 0 there and falls back on area
/// ratios later, which the uniform map reproduces for the destination box).
///
/// # Shapes
/// - `cams`: `[N, h, w]`
/// - output: `[N, height, width]`
pub fn percent_maps(cams: Tensor<3>, height: usize, width: usize) -> Tensor<3> {
    let [n, h, w] = cams.dims();
    let cams_low = cams.clone().reshape([n, h * w]);
    let up = interpolate(
        cams.reshape([n, 1, h, w]),
        InterpolateOptions::new(InterpolateMode::Bilinear)
            .with_align_corners(false)
            .with_output_size([height, width]),
    )
    .reshape([n, height * width]);
    // Flatness is decided on the CAM itself: upsampling a constant may round unevenly.
    let flat_cam = cams_flat(&cams_low);
    let shifted = up.clone() - up.min_dim(1);
    let total = shifted.clone().sum_dim(1);
    let shifted = shifted.mask_fill(flat_cam.clone().expand([n, height * width]), 1.0);
    let total = total.mask_fill(flat_cam, (height * width) as f64);
    (shifted / total).reshape([n, height, width])
}

/// Which CAMs are constant, `[N, 1]`.
fn cams_flat(cams: &Tensor<2>) -> Tensor<2, Bool> {
    (cams.clone().max_dim(1) - cams.clone().min_dim(1)).equal_elem(0.0)
}

/// SnapMix's semantic percent maps of a batch for its ground-truth labels: last-stage
/// features (with the chosen BatchNorm statistics, no gradient), the CAM of each
/// sample's own class, upsampled to the input size and normalised to sum 1.
///
/// # Shapes
/// - `images`: `[N, C, H, W]`
/// - `labels`: `[N]`
/// - output: `[N, H, W]`
///
/// # Errors
/// As [`last_stage_features`] and [`class_activation_maps`].
///
/// # Example
/// ```
/// use burn::{module::Param, nn::Linear, prelude::*};
/// use mixaug_maps::{CamClassifier, CamModel, CamStatistics, MapError, semantic_percent_maps};
///
/// /// A toy network whose last stage is its input; class k reads channel k.
/// #[derive(Module, Debug)]
/// struct Toy { fc: Linear }
/// impl CamModel for Toy {
///     fn cam_features(&self, images: Tensor<4>) -> Tensor<4> { images }
///     fn cam_classifier(&self) -> CamClassifier { CamClassifier::from_linear(&self.fc) }
/// }
/// let device = Device::flex();
/// let weight = Param::from_tensor(Tensor::from_floats([[1.0, 0.0], [0.0, 1.0]], &device));
/// let model = Toy { fc: Linear { weight, bias: None } };
/// // Two 2-channel 3×4 images, all zero but channel 0 of image 0 at row 1, column 2.
/// let images = Tensor::<4>::zeros([2, 2, 3, 4], &device)
///     .slice_assign([0..1, 0..1, 1..2, 2..3], Tensor::ones([1, 1, 1, 1], &device));
/// let labels = Tensor::from_ints([0, 1], &device);
/// let running = CamStatistics::Running;
/// let spm = semantic_percent_maps(&model, images.clone(), labels.clone(), running)?;
/// let spm = spm.into_data().to_vec::<f32>().unwrap();
/// // Image 0, class 0: all of the mass on the one pixel (its CAM is already 3×4).
/// assert!((spm[4 + 2] - 1.0).abs() < 1e-6);
/// // Image 1, class 1: a constant CAM gives the uniform map, 1/12 per pixel.
/// assert!(spm[12..].iter().all(|&p| (p - 1.0 / 12.0).abs() < 1e-7));
/// // Batch statistics need the model on an autodiff device.
/// let batch = semantic_percent_maps(&model, images, labels, CamStatistics::Batch);
/// assert!(matches!(batch, Err(MapError::BatchStatisticsNeedAutodiff)));
/// # Ok::<(), MapError>(())
/// ```
pub fn semantic_percent_maps<M: CamModel>(
    model: &M,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
    statistics: CamStatistics,
) -> Result<Tensor<3>, MapError> {
    let [_, _, height, width] = images.dims();
    let features = last_stage_features(model, images, statistics)?;
    let device = features.device();
    let cams = class_activation_maps(features, &model.cam_classifier(), labels.to_device(&device))?;
    Ok(percent_maps(cams, height, width))
}

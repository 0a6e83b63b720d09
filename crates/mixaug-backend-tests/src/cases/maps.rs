use burn::module::Param;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use mixaug_maps::{
    AttentionChannel, AttentionConfig, CamClassifier, CamModel, CamStatistics, MapError,
    attention_maps, class_activation_maps, last_stage_features, percent_maps,
    semantic_percent_maps,
};

use crate::{assert_close, floats};

/// A hand-built [`CamModel`]: the features are the images through one BatchNorm, the
/// classifier a 2→3 linear layer with known weights.
#[derive(Module, Debug)]
pub struct Probe {
    bn: BatchNorm,
    fc: Linear,
}

impl CamModel for Probe {
    fn cam_features(&self, images: Tensor<4>) -> Tensor<4> {
        self.bn.forward(images)
    }
    fn cam_classifier(&self) -> CamClassifier {
        CamClassifier::from_linear(&self.fc)
    }
}

/// `W = [[1, 0.5, −1], [2, 0, 3]]` (burn layout `[D = 2, K = 3]`), `b = [0.1, 0.2, 0.3]`.
fn classifier(device: &Device) -> CamClassifier {
    CamClassifier {
        weight: Tensor::from_floats([[1.0, 0.5, -1.0], [2.0, 0.0, 3.0]], device),
        bias: Some(Tensor::from_floats([0.1, 0.2, 0.3], device)),
    }
}

/// A probe with the classifier above and a fresh BatchNorm (running mean 0, variance 1).
pub fn probe(device: &Device) -> Probe {
    let mut fc = LinearConfig::new(2, 3).init(device);
    let c = classifier(device);
    fc.weight = Param::from_tensor(c.weight);
    fc.bias = c.bias.map(Param::from_tensor);
    Probe {
        bn: BatchNormConfig::new(2).init(device),
        fc,
    }
}

/// Features `[2, 2, 2, 3]` with negative entries (the CAM applies ReLU first).
fn features(device: &Device) -> Tensor<4> {
    Tensor::from_floats(
        [
            [
                [[1.0, -2.0, 3.0], [0.0, 4.0, -1.0]],
                [[2.0, 2.0, -5.0], [1.0, 0.0, 1.0]],
            ],
            [
                [[0.0, 1.0, 0.0], [2.0, 0.0, 3.0]],
                [[-1.0, 1.0, 1.0], [0.0, 2.0, 0.0]],
            ],
        ],
        device,
    )
}

/// By hand, labels (2, 0):
/// sample 0, class 2: `−1·ReLU(F₀₀) + 3·ReLU(F₀₁) + 0.3`
/// `= −[[1,0,3],[0,4,0]] + [[6,6,0],[3,0,3]] + 0.3 = [[5.3, 6.3, −2.7], [3.3, −3.7, 3.3]]`;
/// sample 1, class 0: `1·F₁₀ + 2·ReLU(F₁₁) + 0.1`
/// `= [[0,1,0],[2,0,3]] + [[0,2,2],[0,4,0]] + 0.1 = [[0.1, 3.1, 2.1], [2.1, 4.1, 3.1]]`.
pub fn cam_hand_case(device: &Device) {
    let cams = class_activation_maps(
        features(device),
        &classifier(device),
        Tensor::from_ints([2, 0], device),
    )
    .unwrap();
    assert_eq!(cams.dims(), [2, 2, 3]);
    assert_close(
        &floats(cams),
        &[5.3, 6.3, -2.7, 3.3, -3.7, 3.3, 0.1, 3.1, 2.1, 2.1, 4.1, 3.1],
        1e-5,
    );
    // Wrong feature depth and classes out of range are typed errors.
    let wide = Tensor::<4>::zeros([2, 3, 2, 3], device);
    assert!(matches!(
        class_activation_maps(wide, &classifier(device), Tensor::from_ints([0, 1], device)),
        Err(MapError::ShapeMismatch { .. })
    ));
    for bad in [3, -1] {
        assert_eq!(
            class_activation_maps(
                features(device),
                &classifier(device),
                Tensor::from_ints([0, bad], device)
            )
            .unwrap_err(),
            MapError::LabelOutOfRange {
                label: bad,
                num_classes: 3
            }
        );
    }
}

/// Upsampling `[[0, 4], [8, 12]]` from 2×2 to 4×6 with bilinear, align_corners = false:
/// the row weights are `a = (0, ¼, ¾, 1)` and the column weights `b = (0, 0, ⅓, ⅔, 1, 1)`
/// (`src = max((dst + ½)·in/out − ½, 0)`, clamped), so the map is `8a_y + 4b_x`, whose
/// minimum is 0 and whose sum is `8·6·Σa + 4·4·Σb = 96 + 48 = 144`. A constant CAM gives
/// the uniform map `1/24`.
pub fn percent_map_hand_case(device: &Device) {
    let cams = Tensor::<3>::from_floats(
        [[[0.0, 4.0], [8.0, 12.0]], [[5.0, 5.0], [5.0, 5.0]]],
        device,
    );
    let spm = floats(percent_maps(cams, 4, 6));
    let a = [0.0f32, 0.25, 0.75, 1.0];
    let b = [0.0f32, 0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0, 1.0];
    let mut expected: Vec<f32> = a
        .iter()
        .flat_map(|ay| b.iter().map(move |bx| (8.0 * ay + 4.0 * bx) / 144.0))
        .collect();
    expected.extend([1.0 / 24.0; 24]);
    assert_close(&spm, &expected, 1e-6);
}

/// SnapMix's maps through a model: non-negative, summing to 1 per sample; batch statistics
/// need an autodiff device (a typed error elsewhere) and really are the batch's (features
/// standardised per channel), running statistics are the fresh BN's (`x/√(1 + ε)`).
pub fn semantic_percent_maps_statistics(device: &Device) {
    let images = crate::ramp_batch(3, 2, 4, 6, device).div_scalar(1000.0);
    let labels = Tensor::<1, Int>::from_ints([0, 2, 1], device);
    let model = probe(device);
    assert_eq!(
        semantic_percent_maps(&model, images.clone(), labels.clone(), CamStatistics::Batch)
            .unwrap_err(),
        MapError::BatchStatisticsNeedAutodiff
    );
    let running = last_stage_features(&model, images.clone(), CamStatistics::Running).unwrap();
    assert_close(
        &floats(running),
        &floats(images.clone().div_scalar((1.0f64 + 1e-5).sqrt())),
        1e-5,
    );

    let ad = device.clone().autodiff();
    let model = probe(&ad);
    let labels = labels.to_device(&ad);
    let batch = last_stage_features(&model, images.clone(), CamStatistics::Batch).unwrap();
    let channel_means = floats(batch.mean_dim(0).mean_dim(2).mean_dim(3));
    assert_close(&channel_means, &[0.0, 0.0], 1e-4);
    for statistics in [CamStatistics::Batch, CamStatistics::Running] {
        let spm =
            semantic_percent_maps(&model, images.clone(), labels.clone(), statistics).unwrap();
        assert_eq!(spm.dims(), [3, 4, 6]);
        let values = floats(spm.clone());
        assert!(values.iter().all(|&v| v >= 0.0), "{values:?}");
        assert_close(
            &floats(spm.sum_dim(2).sum_dim(1).reshape([3])),
            &[1.0; 3],
            1e-5,
        );
    }
}

/// Channel mean and last channel of `[1, 3, 2, 2]` features, by hand: the means of
/// (1, 0, 2), (2, 0, 1), (3, 3, 0), (4, 8, 3) are 1, 1, 2, 5; the last channel is
/// (2, 1, 0, 3).
pub fn attention_maps_hand_case(device: &Device) {
    let features = Tensor::<4>::from_floats(
        [[
            [[1.0, 2.0], [3.0, 4.0]],
            [[0.0, 0.0], [3.0, 8.0]],
            [[2.0, 1.0], [0.0, 3.0]],
        ]],
        device,
    );
    assert_close(
        &floats(attention_maps(features.clone(), AttentionChannel::Mean)),
        &[1.0, 1.0, 2.0, 5.0],
        1e-6,
    );
    assert_eq!(
        floats(attention_maps(features, AttentionChannel::Last)),
        vec![2.0, 1.0, 0.0, 3.0]
    );
}

/// A teacher's attention: the batch bilinearly resized (align_corners = false) to the
/// configured side, through the teacher (here a fresh BatchNorm with running statistics:
/// `x/√(1 + ε)`), then the channel mean or the last channel; a side of 0 is an error.
pub fn attention_from_teacher(device: &Device) {
    let images = crate::ramp_batch(2, 2, 6, 8, device).div_scalar(100.0);
    let resized = interpolate(
        images.clone(),
        InterpolateOptions::new(InterpolateMode::Bilinear)
            .with_align_corners(false)
            .with_output_size([4, 4]),
    )
    .div_scalar((1.0f64 + 1e-5).sqrt());
    let teacher = probe(device);
    for (channel, expected) in [
        (AttentionChannel::Mean, resized.clone().mean_dim(1)),
        (AttentionChannel::Last, resized.clone().slice(s![.., 1..2])),
    ] {
        let config = AttentionConfig {
            channel,
            input_size: Some(4),
            statistics: CamStatistics::Running,
        };
        let got = config.attention(&teacher, images.clone()).unwrap();
        assert_eq!(got.dims(), [2, 4, 4]);
        assert_close(&floats(got), &floats(expected.reshape([2, 4, 4])), 1e-4);
    }
    let zero = AttentionConfig {
        input_size: Some(0),
        ..AttentionConfig::default()
    };
    assert!(matches!(
        zero.attention(&teacher, images),
        Err(MapError::InvalidParameter { .. })
    ));
}

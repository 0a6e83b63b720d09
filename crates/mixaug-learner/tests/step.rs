//! The mixed step on its own (keys, identity mix, the mix it trains on, the checks made
//! before training) and SnapMix trained by burn-train's `Learner`.

use std::num::NonZeroU64;

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::SgdConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::train::metric::LossMetric;
use burn::train::{
    ClassificationOutput, InferenceStep, Learner, LearnerModel, SupervisedTraining, TrainStep,
};
use mixaug_learner::{CrossEntropy, Mixing, SnapMixLoss, StepError, Sumix, TeacherGuided};
use mixaug_loss::{LossError, MidLevelHeadConfig, SumixConfig};
use mixaug_maps::{CamClassifier, CamModel};
use mixaug_masks::{
    AttentiveMixConfig, BatchShape, CutMixConfig, Guide, MixConfig, MixError, MixRng, Mixer, Needs,
    SaliencyMixConfig, SnapMixConfig, StreamKey,
};

const CLASSES: usize = 3;

/// What the `Learner` hands a step: images `[N, C, H, W]` and labels `[N]`.
type Batch = (Tensor<4>, Tensor<1, Int>);

/// A convolution, ReLU, global average pooling and a linear classifier: a CAM model.
#[derive(Module, Debug)]
struct Net {
    conv: Conv2d,
    fc: Linear,
}

impl Net {
    fn new(device: &Device) -> Self {
        Self::with_channels(2, device)
    }

    fn with_channels(channels: usize, device: &Device) -> Self {
        Self {
            conv: Conv2dConfig::new([channels, 4], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device),
            fc: LinearConfig::new(4, CLASSES).init(device),
        }
    }

    fn pooled(&self, images: Tensor<4>) -> Tensor<2> {
        self.cam_features(images)
            .mean_dim(3)
            .mean_dim(2)
            .flatten(1, 3)
    }

    fn classify(&self, pooled: Tensor<2>) -> Tensor<2> {
        self.fc.forward(pooled)
    }

    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.classify(self.pooled(images))
    }

    /// The logits and the convolution's map, standing in for a mid-level stage.
    fn forward_with_mid(&self, images: Tensor<4>) -> (Tensor<2>, Tensor<4>) {
        let features = self.cam_features(images);
        let pooled = features.clone().mean_dim(3).mean_dim(2).flatten(1, 3);
        (self.fc.forward(pooled), features)
    }
}

impl CamModel for Net {
    fn cam_features(&self, images: Tensor<4>) -> Tensor<4> {
        self.conv.forward(images).clamp_min(0.0)
    }

    fn cam_classifier(&self) -> CamClassifier {
        CamClassifier::from_linear(&self.fc)
    }
}

/// Six 2×5×7 images (non-square) and labels 0, 1, 2, 0, 1, 2.
fn batch(device: &Device) -> Batch {
    device.seed(11);
    (
        Tensor::random([6, 2, 5, 7], Distribution::Default, device),
        Tensor::from_ints([0, 1, 2, 0, 1, 2], device),
    )
}

fn close(a: &[f32], b: &[f32], tol: f32) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

#[test]
fn the_keys_count_the_steps() {
    let device = Device::flex().autodiff();
    let none = MixConfig::None.init().unwrap();
    let model = Mixing::new(
        Net::new(&device),
        none,
        CrossEntropy::soft_target(Net::forward),
    )
    .unwrap()
    .with_seed(7)
    .with_steps_per_epoch(NonZeroU64::new(3).unwrap())
    .starting_at_step(4);
    let key = |epoch, step| StreamKey {
        seed: 7,
        epoch,
        step,
        rank: 0,
    };
    // Four steps done, three an epoch: the next is epoch 1, step 1; then 1/2, then 2/0.
    assert_eq!(model.next_key(), key(1, 1));
    let copy = model.clone();
    TrainStep::step(&copy, batch(&device));
    assert_eq!(model.next_key(), key(1, 2), "clones share the counter");
    TrainStep::step(&model, batch(&device));
    assert_eq!(model.next_key(), key(2, 0));
}

#[test]
fn an_identity_mix_trains_on_plain_cross_entropy() {
    let device = Device::flex().autodiff();
    let net = Net::new(&device);
    let (images, labels) = batch(&device);
    // Reference: burn-nn's cross-entropy of the clean logits (an independent implementation).
    let logits = net.forward(images.clone());
    let expected: f32 = CrossEntropyLossConfig::new()
        .init(&device)
        .forward(logits.clone(), labels.clone())
        .into_scalar();
    let soft = Mixing::new(
        net.clone(),
        MixConfig::None.init().unwrap(),
        CrossEntropy::soft_target(Net::forward),
    )
    .unwrap();
    let out = TrainStep::step(&soft, (images.clone(), labels.clone())).item;
    let loss: f32 = out.loss.into_scalar();
    assert!((loss - expected).abs() < 1e-5, "{loss} vs {expected}");
    assert!(close(&values(out.output), &values(logits), 1e-6));
    let pair = Mixing::new(
        net.clone(),
        MixConfig::None.init().unwrap(),
        CrossEntropy::pair(Net::forward),
    )
    .unwrap();
    let loss: f32 = TrainStep::step(&pair, (images.clone(), labels.clone()))
        .item
        .loss
        .into_scalar();
    assert!((loss - expected).abs() < 1e-5, "{loss} vs {expected}");
    // Validation: the same clean cross-entropy, on the plain device.
    let valid = pair.valid();
    let inner = device.clone().inner();
    let out = InferenceStep::step(&valid, (images.inner(), labels.inner()));
    assert_eq!(out.loss.device(), inner);
    let loss: f32 = out.loss.into_scalar();
    assert!((loss - expected).abs() < 1e-5, "{loss} vs {expected}");
}

#[test]
fn the_step_trains_on_the_mix_its_key_draws() {
    let device = Device::flex().autodiff();
    let net = Net::new(&device);
    let (images, labels) = batch(&device);
    let cutmix = MixConfig::CutMix(CutMixConfig::new()).init().unwrap();
    let model = Mixing::new(
        net.clone(),
        cutmix.clone(),
        CrossEntropy::soft_target(Net::forward),
    )
    .unwrap()
    .with_seed(3);
    let key = model.next_key();
    let out = TrainStep::step(&model, (images.clone(), labels.clone())).item;
    // Reference: the mixer's own `mix` with the same key, then the model.
    let mixed = cutmix
        .mix(&mut MixRng::new(key), images.inner(), labels.inner())
        .unwrap();
    let expected = net.forward(mixed.images.autodiff());
    assert!(close(&values(out.output), &values(expected), 1e-6));
}

#[test]
fn what_cannot_train_is_refused_before_training() {
    let device = Device::flex().autodiff();
    let snapmix = MixConfig::SnapMix(SnapMixConfig::new()).init().unwrap();
    let attentive = MixConfig::AttentiveMix(AttentiveMixConfig::new())
        .init()
        .unwrap();
    let cutmix = MixConfig::CutMix(CutMixConfig::new()).init().unwrap();
    let net = Net::new(&device);
    let err = Mixing::new(
        net.clone(),
        snapmix.clone(),
        CrossEntropy::soft_target(Net::forward),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        StepError::GuideUnavailable {
            needs: Needs::PercentMaps,
            ..
        }
    ));
    let err = Mixing::new(
        net.clone(),
        snapmix,
        Sumix::new(Net::pooled, Net::classify, SumixConfig::new(), None),
    )
    .unwrap_err();
    assert!(matches!(err, StepError::GuideUnavailable { .. }));
    let err = Mixing::new(net.clone(), attentive, SnapMixLoss::new(Net::forward)).unwrap_err();
    assert!(matches!(
        err,
        StepError::GuideUnavailable {
            needs: Needs::Attention,
            ..
        }
    ));
    let bad_gamma = SumixConfig::new().with_gamma(-1.0);
    let err = Mixing::new(
        net.clone(),
        cutmix.clone(),
        Sumix::new(Net::pooled, Net::classify, bad_gamma, None),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        StepError::Loss(LossError::InvalidHyperParameter {
            name: "sumix.gamma",
            ..
        })
    ));
    let err = Mixing::new(
        net,
        cutmix,
        CrossEntropy::pair(Net::forward).with_smoothing(1.5),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        StepError::Mix(MixError::InvalidHyperParameter { .. })
    ));
}

#[test]
#[should_panic(expected = "mixaug-learner training step: a batch of 1 image(s) cannot be mixed")]
fn a_batch_of_one_is_a_clear_panic() {
    let device = Device::flex().autodiff();
    let cutmix = MixConfig::CutMix(CutMixConfig::new()).init().unwrap();
    let model = Mixing::new(
        Net::new(&device),
        cutmix,
        CrossEntropy::soft_target(Net::forward),
    )
    .unwrap();
    let (images, labels) = batch(&device);
    TrainStep::step(&model, (images.slice(s![0..1]), labels.slice(s![0..1])));
}

#[derive(Clone, Debug)]
struct Item {
    pixels: Vec<f32>,
    label: i64,
}

#[derive(Clone)]
struct ItemBatcher;

impl Batcher<Item, Batch> for ItemBatcher {
    fn batch(&self, items: Vec<Item>, device: &Device) -> Batch {
        let n = items.len();
        let pixels: Vec<f32> = items.iter().flat_map(|i| i.pixels.clone()).collect();
        let labels: Vec<i64> = items.iter().map(|i| i.label).collect();
        (
            Tensor::from_data(TensorData::new(pixels, [n, 2, 5, 7]), device),
            Tensor::from_data(TensorData::new(labels, [n]), device),
        )
    }
}

/// Twelve 2×5×7 images, class `i % 3`, brightness rising with the class.
fn items() -> Vec<Item> {
    (0..12)
        .map(|i| Item {
            pixels: (0..70)
                .map(|p| ((p * 7 + i * 13) % 10) as f32 / 10.0 + (i % 3) as f32)
                .collect(),
            label: (i % 3) as i64,
        })
        .collect()
}

/// Trains `model` for one epoch of three steps and returns the logged training losses.
fn learner_losses<M>(model: M) -> Vec<f64>
where
    M: LearnerModel
        + TrainStep<Input = Batch, Output = ClassificationOutput>
        + InferenceStep<Input = Batch, Output = ClassificationOutput>,
{
    let dir = tempfile::tempdir().unwrap();
    let train = DataLoaderBuilder::new(ItemBatcher)
        .batch_size(4)
        .build(InMemDataset::new(items()));
    let valid = DataLoaderBuilder::new(ItemBatcher)
        .batch_size(6)
        .build(InMemDataset::new(items()));
    let result = SupervisedTraining::new(dir.path(), train, valid)
        .metrics((LossMetric::new(),))
        .with_application_logger(None)
        .num_epochs(1)
        .launch(Learner::new(model, SgdConfig::new().init(), 0.05));
    assert!(
        result.error.is_none(),
        "{:?}",
        result.error.map(|e| e.to_string())
    );
    let text = std::fs::read_to_string(dir.path().join("train/epoch-1/Loss.log")).unwrap();
    text.lines()
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn snapmix_trains_in_the_learner_with_and_without_baseline_plus() {
    let device = Device::flex().autodiff();
    let snapmix = MixConfig::SnapMix(SnapMixConfig::new()).init().unwrap();
    assert_eq!(snapmix.needs(), Needs::PercentMaps);
    let plain = Mixing::new(
        Net::new(&device),
        snapmix.clone(),
        SnapMixLoss::new(Net::forward),
    )
    .unwrap();
    let head = MidLevelHeadConfig::new(4, CLASSES).init(&device);
    let plus = Mixing::new(
        Net::new(&device),
        snapmix,
        SnapMixLoss::new(Net::forward).with_baseline_plus(Net::forward_with_mid, head),
    )
    .unwrap();
    for losses in [learner_losses(plain), learner_losses(plus)] {
        // 12 images in batches of 4: three steps, each a finite positive loss, then the
        // epoch's line, their mean (equal batches).
        assert_eq!(losses.len(), 4, "{losses:?}");
        assert!(
            losses.iter().all(|l| l.is_finite() && *l > 0.0),
            "{losses:?}"
        );
        let mean = losses[..3].iter().sum::<f64>() / 3.0;
        assert!((losses[3] - mean).abs() < 1e-9, "{losses:?}");
    }
}

/// A frozen teacher: one 32×32 stride-32 convolution, so a 224-pixel input gives a 7×7 grid.
#[derive(Module, Debug)]
struct Teacher {
    conv: Conv2d,
    fc: Linear,
}

impl CamModel for Teacher {
    fn cam_features(&self, images: Tensor<4>) -> Tensor<4> {
        self.conv.forward(images).clamp_min(0.0)
    }

    fn cam_classifier(&self) -> CamClassifier {
        CamClassifier::from_linear(&self.fc)
    }
}

#[test]
fn attentivemix_mixes_by_its_teachers_attention() {
    let device = Device::flex().autodiff();
    let teacher = Teacher {
        conv: Conv2dConfig::new([2, 5], [32, 32])
            .with_stride([32, 32])
            .init(&device),
        fc: LinearConfig::new(5, 10).init(&device),
    };
    let net = Net::new(&device);
    let attentive = MixConfig::AttentiveMix(AttentiveMixConfig::new())
        .init()
        .unwrap();
    let model = Mixing::new(
        net.clone(),
        attentive.clone(),
        TeacherGuided::new(CrossEntropy::soft_target(Net::forward), teacher.clone()),
    )
    .unwrap();
    // 8×10 images: the teacher's 7×7 grid fits.
    device.seed(5);
    let images = Tensor::<4>::random([4, 2, 8, 10], Distribution::Default, &device);
    let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 0], &device);
    let key = model.next_key();
    let out = TrainStep::step(&model, (images.clone(), labels.clone())).item;
    // Reference: the method's own sample and apply, with the grids of
    // `AttentiveMixConfig::attention` from the teacher.
    let params = attentive
        .sample(&mut MixRng::new(key), BatchShape::new(4, 2, 8, 10))
        .unwrap();
    let grids = AttentiveMixConfig::new()
        .attention()
        .attention(&teacher, images.clone())
        .unwrap()
        .inner();
    assert_eq!(grids.dims(), [4, 7, 7]);
    let mixed = attentive
        .apply(
            &params,
            images.inner(),
            labels.clone().inner(),
            &Guide::Attention(grids),
        )
        .unwrap();
    let expected = net.forward(mixed.images.autodiff());
    assert!(close(&values(out.output), &values(expected), 1e-6));
    // The teacher gets no gradient: its parameters are frozen.
    let loss = TrainStep::step(
        &model,
        (
            Tensor::random([4, 2, 8, 10], Distribution::Default, &device),
            labels,
        ),
    );
    let teacher_weight = model.objective.teacher.conv.weight.clone();
    assert!(!teacher_weight.is_require_grad());
    assert!(loss.grads.get::<4>(teacher_weight.id).is_none());
}

#[test]
fn saliencymix_mixes_by_the_peaks_of_the_device_batch() {
    let device = Device::flex().autodiff();
    let net = Net::with_channels(3, &device);
    let saliency = MixConfig::SaliencyMix(SaliencyMixConfig::new())
        .init()
        .unwrap();
    let model = Mixing::new(
        net.clone(),
        saliency.clone(),
        CrossEntropy::soft_target(Net::forward),
    )
    .unwrap()
    .with_seed(9);
    device.seed(6);
    let images = Tensor::<4>::random([4, 3, 9, 11], Distribution::Default, &device);
    let labels = Tensor::<1, Int>::from_ints([2, 1, 0, 1], &device);
    let key = model.next_key();
    let out = TrainStep::step(&model, (images.clone(), labels.clone())).item;
    // Reference: the method's own sample, its guide read from the batch, apply.
    let params = saliency
        .sample(&mut MixRng::new(key), BatchShape::new(4, 3, 9, 11))
        .unwrap();
    let plain = images.inner();
    let guide = saliency.device_guide(&params, &plain).unwrap().unwrap();
    // The reference's single box: the peak of the first partner (prob 1, so a peak).
    assert!(
        matches!(&guide, Guide::SaliencyPeaks(peaks) if peaks.len() == 1),
        "{guide:?}"
    );
    let mixed = saliency
        .apply(&params, plain, labels.inner(), &guide)
        .unwrap();
    let expected = net.forward(mixed.images.autodiff());
    assert!(close(&values(out.output), &values(expected), 1e-6));
}

#[test]
fn transmix_re_weights_the_target_with_the_attention_of_its_forward() {
    use mixaug_learner::TransMixCe;
    use mixaug_loss::soft_target_cross_entropy;
    use mixaug_masks::TransMixConfig;
    use mixaug_models::{Deit, DeitConfig};
    let device = Device::flex().autodiff();
    device.seed(5);
    // A one-block DeiT on 8×8 images with 4×4 patches (a 2×2 grid).
    let deit = DeitConfig::new(CLASSES)
        .with_image_size(8)
        .with_patch_size(4)
        .with_embed_dim(12)
        .with_depth(1)
        .with_num_heads(2)
        .init(&device);
    let images = Tensor::<4>::random([6, 3, 8, 8], Distribution::Default, &device);
    let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 0, 1, 2], &device);
    let config = TransMixConfig {
        patch_size: 4,
        prob: 1.0,
        ..TransMixConfig::default()
    };
    let transmix = MixConfig::TransMix(config).init().unwrap();
    let model = Mixing::new(
        deit.clone(),
        transmix.clone(),
        TransMixCe::new(Deit::forward_with_attention),
    )
    .unwrap()
    .with_seed(9);
    let key = model.next_key();
    let loss: f32 = TrainStep::step(&model, (images.clone(), labels.clone()))
        .item
        .loss
        .into_scalar();
    // Reference: the method's own draw, mix and re-weighting with the same key, the
    // attention of the DeiT's forward on the mixed batch, then the soft-target loss.
    let params = transmix
        .sample(&mut MixRng::new(key), BatchShape::new(6, 3, 8, 8))
        .unwrap();
    let mixed = transmix
        .apply(&params, images.inner(), labels.inner(), &Guide::None)
        .unwrap()
        .autodiff();
    let (logits, attention) = deit.forward_with_attention(mixed.images.clone());
    let target = transmix.retarget(&params, &mixed, attention).unwrap();
    let expected: f32 = soft_target_cross_entropy(logits.clone(), &target, 0.0)
        .unwrap()
        .into_scalar();
    assert!((loss - expected).abs() < 1e-5, "{loss} vs {expected}");
    // The re-weighting matters: the area target gives another loss.
    let area: f32 = soft_target_cross_entropy(logits, &mixed.target, 0.0)
        .unwrap()
        .into_scalar();
    assert!((area - expected).abs() > 1e-6, "{area} vs {expected}");
    // Objectives that cannot re-weight refuse TransMix; TransMixCe refuses SnapMix.
    let refused = Mixing::new(
        deit.clone(),
        transmix,
        CrossEntropy::soft_target(Deit::forward),
    );
    assert!(matches!(
        refused.err(),
        Some(StepError::GuideUnavailable {
            needs: Needs::ClassAttention,
            ..
        })
    ));
    let snapmix = MixConfig::SnapMix(SnapMixConfig::new()).init().unwrap();
    let refused = Mixing::new(deit, snapmix, TransMixCe::new(Deit::forward_with_attention));
    assert!(refused.is_err());
}

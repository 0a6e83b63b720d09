use burn::module::Param;
use burn::prelude::*;
use mixaug_loss::{MidLevelHeadConfig, baseline_plus_scores, pair_cross_entropy, snapmix_loss};
use mixaug_maps::{CamStatistics, semantic_percent_maps};
use mixaug_masks::MixedTarget;
use mixaug_models::{PreActNetConfig, ResNetConfig, Stem};

use crate::{assert_close, floats};

/// Baseline+ by hand: identity 1×1 convolution (zero bias), ReLU, global max pool, then
/// `W = [[1, 0.5, −1], [2, 0, 3]]`. Channel 0 `[[1, −2, 3], [0, 4, −1]]` pools to 4,
/// channel 1 `[[2, 2, −5], [1, 0, 1]]` to 2, so the logits are
/// `(4 + 4, 2 + 0, −4 + 6) = (8, 2, 2)`. The features are detached by default (no
/// gradient reaches them, the head's weights get one) and attached from
/// `detach_until_epoch` on; the loss is the sum of the two pair cross-entropies and the
/// evaluation score the sum of the two logits.
pub fn snapmix_mid_level_head(device: &Device) {
    let ad = device.clone().autodiff();
    let build = |until: Option<usize>| {
        let mut head = MidLevelHeadConfig::new(2, 3)
            .with_detach_until_epoch(until)
            .init(&ad);
        head.conv.weight = Param::from_tensor(Tensor::from_floats(
            [[[[1.0]], [[0.0]]], [[[0.0]], [[1.0]]]],
            &ad,
        ));
        head.conv.bias = Some(Param::from_tensor(Tensor::zeros([2], &ad)));
        head.fc.weight = Param::from_tensor(Tensor::from_floats(
            [[1.0, 0.5, -1.0], [2.0, 0.0, 3.0]],
            &ad,
        ));
        head.fc.bias = Some(Param::from_tensor(Tensor::zeros([3], &ad)));
        head
    };
    let features = || {
        Tensor::<4>::from_floats(
            [[
                [[1.0, -2.0, 3.0], [0.0, 4.0, -1.0]],
                [[2.0, 2.0, -5.0], [1.0, 0.0, 1.0]],
            ]],
            &ad,
        )
        .require_grad()
    };
    let target = MixedTarget::pair(
        Tensor::from_ints([0], &ad),
        Tensor::from_ints([2], &ad),
        Tensor::from_floats([0.7], &ad),
        Tensor::from_floats([0.6], &ad),
    )
    .unwrap();
    let main = Tensor::<2>::from_floats([[0.5, -0.5, 1.0]], &ad);

    let head = build(None);
    let x = features();
    let mid = head.forward(x.clone(), 0);
    assert_close(&floats(mid.clone()), &[8.0, 2.0, 2.0], 1e-5);
    assert_close(
        &floats(baseline_plus_scores(main.clone(), mid.clone())),
        &[8.5, 1.5, 3.0],
        1e-5,
    );
    let loss = snapmix_loss(main.clone(), Some(mid.clone()), &target, 0.0).unwrap();
    let expected = floats(pair_cross_entropy(main.clone(), &target, 0.0).unwrap())[0]
        + floats(pair_cross_entropy(mid, &target, 0.0).unwrap())[0];
    assert_close(&floats(loss.clone()), &[expected], 1e-5);
    let grads = loss.backward();
    assert!(x.grad(&grads).is_none(), "detached features got a gradient");
    assert!(head.conv.weight.val().grad(&grads).is_some());

    let head = build(Some(1));
    let x = features();
    let loss = snapmix_loss(main, Some(head.forward(x.clone(), 1)), &target, 0.0).unwrap();
    let grads = loss.backward();
    assert!(
        x.grad(&grads).is_some(),
        "attached features got no gradient"
    );
}

/// Every network family runs forward and backward on small inputs (ResNet-18 CIFAR stem,
/// ResNet-18 ImageNet stem with its mid-level features, PreAct-ResNet-18), and SnapMix's
/// maps from a real ResNet are non-negative and sum to 1 per sample.
pub fn models_forward_backward(device: &Device) {
    let ad = device.clone().autodiff();
    let images = Tensor::<4>::random([2, 3, 8, 12], burn::tensor::Distribution::Default, &ad);
    let labels = Tensor::<1, Int>::from_ints([1, 3], &ad);
    let cifar = ResNetConfig::resnet18(5).with_stem(Stem::Cifar).init(&ad);
    let logits = cifar.forward(images.clone());
    assert_eq!(logits.dims(), [2, 5]);
    let grads = logits.sum().backward();
    assert!(cifar.conv1.weight.val().grad(&grads).is_some());
    let spm = semantic_percent_maps(&cifar, images.clone(), labels, CamStatistics::Batch).unwrap();
    assert_eq!(spm.dims(), [2, 8, 12]);
    assert!(floats(spm.clone()).iter().all(|&v| v >= 0.0));
    assert_close(
        &floats(spm.sum_dim(2).sum_dim(1).reshape([2])),
        &[1.0, 1.0],
        1e-4,
    );

    let imagenet = ResNetConfig::resnet18(5).init(&ad);
    let big = Tensor::<4>::random([2, 3, 32, 48], burn::tensor::Distribution::Default, &ad);
    let (logits, mid) = imagenet.forward_with_mid(big);
    assert_eq!((logits.dims(), mid.dims()), ([2, 5], [2, 256, 2, 3]));
    let grads = logits.sum().backward();
    assert!(imagenet.fc.weight.val().grad(&grads).is_some());

    let preact = PreActNetConfig::preact_resnet18(5).init(&ad);
    let logits = preact.forward(images);
    assert_eq!(logits.dims(), [2, 5]);
    let grads = logits.sum().backward();
    assert!(preact.fc.weight.val().grad(&grads).is_some());
}

/// Counts the float parameters of a module and those with a gradient in `grads`.
struct GradCount<'a> {
    grads: &'a burn::optim::GradientsParams,
    params: usize,
    with_grad: usize,
}

impl burn::module::ModuleVisitor for GradCount<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.params += 1;
        if self.grads.get::<D>(param.id).is_some() {
            self.with_grad += 1;
        }
    }
}

/// Trains `model` for `steps` AdamW steps on one fixed batch of 4 images in 4 classes;
/// returns the first and last losses and checks, on the first step, that every parameter
/// received a gradient.
fn fit_one_batch<M: burn::module::Module>(
    mut model: M,
    forward: impl Fn(&M, Tensor<4>) -> Tensor<2>,
    side: usize,
    steps: usize,
    ad: &Device,
) -> (f32, f32) {
    use burn::optim::{AdamWConfig, GradientsParams};
    let images = Tensor::<4>::random(
        [4, 3, side, side],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        ad,
    );
    let target = MixedTarget::single(Tensor::<1, Int>::from_ints([0, 1, 2, 3], ad));
    let mut optimizer = AdamWConfig::new().with_weight_decay(0.0).init();
    let (mut first, mut last) = (f32::NAN, f32::NAN);
    for step in 0..steps {
        let logits = forward(&model, images.clone());
        let loss = mixaug_loss::soft_target_cross_entropy(logits, &target, 0.0).unwrap();
        let value = loss.clone().into_scalar::<f32>();
        if step == 0 {
            first = value;
        }
        last = value;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        if step == 0 {
            let mut count = GradCount {
                grads: &grads,
                params: 0,
                with_grad: 0,
            };
            model.visit(&mut count);
            assert_eq!(
                count.with_grad, count.params,
                "parameters without a gradient"
            );
        }
        model = optimizer.step(3e-3, model, grads);
    }
    (first, last)
}

/// DeiT and Swin train on the device (small configurations: DeiT 16×16, patch 4, two
/// blocks; Swin 16×16, patch 2, window 4, two stages): every parameter gets a gradient and
/// 40 AdamW steps on one batch of four images bring its cross-entropy below half of the
/// first (it starts near ln 4 ≈ 1.39; a network that cannot fit four examples is broken).
pub fn vits_train_on_one_batch(device: &Device) {
    use mixaug_loss::PooledClassifier;
    use mixaug_models::{DeitConfig, SwinConfig};
    let ad = device.clone().autodiff();
    ad.seed(3);
    let deit = DeitConfig::new(4)
        .with_image_size(16)
        .with_patch_size(4)
        .with_embed_dim(16)
        .with_depth(2)
        .with_num_heads(2)
        .init(&ad);
    let (first, last) = fit_one_batch(deit, |m, x| m.forward(x), 16, 40, &ad);
    assert!(
        last.is_finite() && last < 0.5 * first,
        "DeiT: {first} → {last}"
    );
    let swin = SwinConfig::new(4)
        .with_image_size(16)
        .with_patch_size(2)
        .with_embed_dim(8)
        .with_depths(vec![2, 2])
        .with_num_heads(vec![1, 2])
        .with_window_size(4)
        .init(&ad);
    let (first, last) = fit_one_batch(swin, |m, x| m.classify(m.pooled(x)), 16, 40, &ad);
    assert!(
        last.is_finite() && last < 0.5 * first,
        "Swin: {first} → {last}"
    );
}

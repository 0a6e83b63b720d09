//! Parameter counts equal torchvision's (at 1000 classes), shapes on non-square inputs.

use burn::prelude::*;
use mixaug_loss::PooledClassifier;
use mixaug_models::{ResNetConfig, Stem};

#[test]
fn parameter_counts_match_torchvision() {
    // torchvision.models.*().parameters() summed, as listed in the models issue.
    let device = Device::flex();
    for (config, expected) in [
        (ResNetConfig::resnet18(1000), 11_689_512),
        (ResNetConfig::resnet34(1000), 21_797_672),
        (ResNetConfig::resnet50(1000), 25_557_032),
        (ResNetConfig::resnet101(1000), 44_549_160),
        (ResNetConfig::resnext50_32x4d(1000), 25_028_904),
    ] {
        assert_eq!(
            config.init(&device).num_trainable_params(),
            expected,
            "{config:?}"
        );
    }
}

#[test]
fn forward_shapes_and_stems() {
    let device = Device::flex();
    let cifar = ResNetConfig::resnet18(10)
        .with_stem(Stem::Cifar)
        .init(&device);
    let x = Tensor::<4>::ones([2, 3, 16, 12], &device);
    // CIFAR stem: no downsampling before layer2 → 16×12 / 8 = 2×2 (rounded up at odd sizes).
    assert_eq!(cifar.features(x.clone()).dims(), [2, 512, 2, 2]);
    assert_eq!(cifar.pooled(x.clone()).dims(), [2, 512]);
    let imagenet = ResNetConfig::resnext50_32x4d(7).init(&device);
    let x = Tensor::<4>::ones([1, 3, 64, 48], &device);
    assert_eq!(imagenet.features(x.clone()).dims(), [1, 2048, 2, 2]);
    let logits = imagenet.forward(x);
    assert_eq!(logits.dims(), [1, 7]);
    let v: Vec<f32> = logits.into_data().try_into_vec_as::<f32>().unwrap();
    assert!(v.iter().all(|x| x.is_finite()));
}

#[test]
fn zero_init_residual_silences_the_branches() {
    let device = Device::flex();
    let model = ResNetConfig::resnet50(5)
        .with_zero_init_residual(true)
        .init(&device);
    let gamma: Vec<f32> = model.layer1[0]
        .bn3
        .as_ref()
        .unwrap()
        .gamma
        .val()
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    assert_eq!(gamma.len(), 256);
    assert!(gamma.iter().all(|g| *g == 0.0));
}

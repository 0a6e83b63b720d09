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

#[test]
fn images_a_resnet_cannot_take_are_a_typed_error() {
    use mixaug_models::{Classifier, ClassifierFamily, ImageShapeError, ModelError};
    let device = Device::flex();
    let model = ResNetConfig::resnet18(5)
        .with_stem(Stem::Cifar)
        .with_base_width(4)
        .init(&device);
    // Any size of 3-channel images is taken, down to 1 × 1, non-square.
    for shape in [[2, 3, 9, 13], [1, 3, 1, 1]] {
        let images = Tensor::<4>::zeros(shape, &device);
        assert_eq!(model.check_images(&images), Ok(()));
    }
    // A grey batch (the stem convolution has 3 input channels, burn's convolution would
    // fail) and an empty one are refused, naming what the network takes.
    let classifier = Classifier::ResNet(model);
    for found in [[2, 1, 9, 13], [0, 3, 9, 13], [2, 3, 0, 13]] {
        let images = Tensor::<4>::zeros(found, &device);
        let expected = ImageShapeError {
            network: "ResNet family",
            channels: 3,
            size: None,
            found,
        };
        match classifier.try_forward(images) {
            Err(ModelError::ImageShape(e)) => assert_eq!(e, expected),
            other => panic!("expected an image shape error, got {other:?}"),
        }
    }
}

#[test]
#[should_panic(
    expected = "ResNet family takes a non-empty batch of shape [N, 3, H, W], got a batch of shape [2, 1, 9, 13]"
)]
fn a_grey_batch_is_refused_with_our_message() {
    let device = Device::flex();
    let model = ResNetConfig::resnet18(5).with_base_width(4).init(&device);
    let _ = model.forward(Tensor::<4>::zeros([2, 1, 9, 13], &device));
}

//! PreAct-ResNet-18 and WideResNet-28-k: parameter counts and shapes.

use burn::prelude::*;
use mixaug_loss::PooledClassifier;
use mixaug_models::PreActNetConfig;

#[test]
fn parameter_counts_match_the_reference_architectures() {
    // Counts of the same architectures built with torch.nn (2.9.0) by hand; they are also
    // the figures usually quoted (PreAct-ResNet-18 CIFAR-10 11.17 M, WRN-28-10 36.48 M).
    let device = Device::flex();
    for (config, expected) in [
        (PreActNetConfig::preact_resnet18(10), 11_171_146),
        (PreActNetConfig::preact_resnet18(100), 11_217_316),
        (PreActNetConfig::wide_resnet28(8, 100), 23_401_012),
        (PreActNetConfig::wide_resnet28(10, 10), 36_479_194),
        (PreActNetConfig::wide_resnet28(10, 100), 36_536_884),
    ] {
        assert_eq!(
            config.init(&device).num_trainable_params(),
            expected,
            "{config:?}"
        );
    }
}

#[test]
fn forward_shapes_on_non_square_inputs() {
    let device = Device::flex();
    let x = Tensor::<4>::ones([2, 3, 12, 8], &device);
    let preact = PreActNetConfig::preact_resnet18(10).init(&device);
    assert_eq!(preact.features(x.clone()).dims(), [2, 512, 2, 1]);
    assert_eq!(preact.forward(x.clone()).dims(), [2, 10]);
    let wrn = PreActNetConfig::wide_resnet28(1, 5)
        .with_dropout(0.3)
        .init(&device);
    assert_eq!(wrn.features(x.clone()).dims(), [2, 64, 3, 2]);
    let logits = wrn.classify(wrn.pooled(x));
    assert_eq!(logits.dims(), [2, 5]);
    let v: Vec<f32> = logits.into_data().try_into_vec_as::<f32>().unwrap();
    assert!(v.iter().all(|x| x.is_finite()));
}

#[test]
fn a_batch_of_another_channel_count_is_a_typed_error() {
    use mixaug_models::{Classifier, ClassifierFamily, ImageShapeError, ModelError};
    let device = Device::flex();
    let model = PreActNetConfig::wide_resnet28(1, 4).init(&device);
    assert_eq!(
        model.check_images(&Tensor::<4>::zeros([3, 3, 5, 7], &device)),
        Ok(())
    );
    let found = [3, 4, 5, 7];
    let expected = ImageShapeError {
        network: "pre-activation ResNet family",
        channels: 3,
        size: None,
        found,
    };
    match Classifier::PreAct(model).try_forward(Tensor::<4>::zeros(found, &device)) {
        Err(ModelError::ImageShape(e)) => assert_eq!(e, expected),
        other => panic!("expected an image shape error, got {other:?}"),
    }
}

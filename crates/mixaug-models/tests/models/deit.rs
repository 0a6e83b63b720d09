//! DeiT: parameter counts equal timm's, shapes, a training step, the class-token attention
//! the configuration errors and the images of another shape.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use mixaug_loss::PooledClassifier;
use mixaug_models::{
    Classifier, ClassifierFamily, DeitConfig, DeitConfigError, ImageShapeError, ModelError,
};

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

/// 32×32 images, patch 8 (a 4×4 grid, 17 tokens), width 32, 2 blocks of 4 heads.
fn tiny(num_classes: usize) -> DeitConfig {
    DeitConfig::new(num_classes)
        .with_image_size(32)
        .with_patch_size(8)
        .with_embed_dim(32)
        .with_depth(2)
        .with_num_heads(4)
}

#[test]
fn parameter_counts_match_timm() {
    // sum(p.numel() for p in timm.create_model("deit_small_patch16_224",
    // num_classes=K).parameters()), as listed in issue 20.
    let device = Device::flex();
    for (classes, expected) in [(1000, 22_050_664), (100, 21_704_164)] {
        let model = DeitConfig::deit_small(classes).init(&device);
        assert_eq!(model.num_trainable_params(), expected, "{classes} classes");
    }
}

#[test]
fn forward_shapes() {
    let device = Device::flex();
    let model = tiny(7).init(&device);
    let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Default, &device);
    assert_eq!(model.forward_features(x.clone()).dims(), [2, 17, 32]);
    assert_eq!(model.pooled(x.clone()).dims(), [2, 32]);
    let (logits, attn) = model.forward_with_attention(x.clone());
    assert_eq!((logits.dims(), attn.dims()), ([2, 7], [2, 4, 16]));
    let plain = floats(model.forward(x));
    assert!(plain.iter().all(|v| v.is_finite()));
    for (a, b) in plain.iter().zip(floats(logits)) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn attention_rows_are_distributions() {
    let device = Device::flex();
    let model = tiny(3).init(&device);
    // Every softmax row of a block sums to 1 …
    let tokens = Tensor::<3>::random([2, 17, 32], Distribution::Normal(0.0, 1.0), &device);
    let (out, attn) = model.blocks[0].attn.forward_with_attention(tokens);
    assert_eq!((out.dims(), attn.dims()), ([2, 17, 32], [2, 4, 17, 17]));
    let sums = floats(attn.sum_dim(3));
    assert_eq!(sums.len(), 2 * 4 * 17);
    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
    // … so the class token's row over the 16 patches sums to 1 minus its self-attention:
    // positive entries, a sum in (0, 1].
    let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Default, &device);
    let (_, cls) = model.forward_with_attention(x);
    assert!(floats(cls.clone()).iter().all(|&v| v > 0.0));
    let sums = floats(cls.sum_dim(2));
    assert!(sums.iter().all(|&s| s > 0.0 && s <= 1.0 + 1e-5), "{sums:?}");
}

#[test]
fn one_training_step_reaches_the_patch_embedding() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let model = tiny(5).init(&device);
    let x = Tensor::<4>::random([4, 3, 32, 32], Distribution::Default, &device);
    let y = Tensor::<1, Int>::from_ints([0, 1, 2, 4], &device);
    let loss = CrossEntropyLossConfig::new()
        .init(&device)
        .forward(model.forward(x), y);
    let grads = loss.backward();
    let first = model.patch_embed.proj.weight.val().grad(&grads).unwrap();
    let g = floats(first);
    assert!(g.iter().all(|v| v.is_finite()) && g.iter().any(|v| *v != 0.0));
    let cls = floats(model.cls_token.val().grad(&grads).unwrap());
    assert!(cls.iter().all(|v| v.is_finite()) && cls.iter().any(|v| *v != 0.0));
    assert!(loss.into_scalar::<f32>().is_finite());
}

#[test]
fn invalid_configurations_are_typed_errors() {
    let device = Device::flex();
    assert_eq!(
        tiny(3).with_patch_size(5).try_init(&device).err(),
        Some(DeitConfigError::Patch {
            image: 32,
            patch: 5
        })
    );
    assert_eq!(
        tiny(3).with_num_heads(5).validate(),
        Err(DeitConfigError::Heads {
            embed_dim: 32,
            heads: 5
        })
    );
    assert_eq!(
        tiny(3).with_depth(0).validate(),
        Err(DeitConfigError::Depth)
    );
    assert_eq!(DeitConfig::deit_small(10).validate(), Ok(()));
}

#[test]
fn images_of_another_shape_are_a_typed_error() {
    let device = Device::flex();
    let model = tiny(7).init(&device);
    // The configured 3 × 32 × 32 works, through the checked path too.
    let right = Tensor::<4>::zeros([2, 3, 32, 32], &device);
    assert_eq!(model.try_forward(right.clone()).unwrap().dims(), [2, 7]);
    // 40 × 40 makes a 5 × 5 grid of 25 patches for a position embedding of 1 + 16 entries
    // (burn would fail adding them); one channel does not fit the 3-channel patch
    // projection (burn's convolution would fail); 36 × 36 would even pass through burn,
    // its 4.5 × 4.5 patches floored to the configured 4 × 4 grid, silently cropping.
    for found in [[2, 3, 40, 40], [2, 1, 32, 32], [1, 3, 36, 36]] {
        let images = Tensor::<4>::zeros(found, &device);
        let expected = ImageShapeError {
            network: "DeiT",
            channels: 3,
            size: Some([32, 32]),
            found,
        };
        assert_eq!(model.check_images(&images), Err(expected.clone()));
        assert_eq!(model.try_forward(images).err(), Some(expected));
    }
    // A `Classifier` gives the same error as a `ModelError`, from its fallible forwards.
    let classifier = Classifier::Deit(model);
    let wrong = Tensor::<4>::zeros([2, 3, 40, 40], &device);
    let error = |e: ModelError| match e {
        ModelError::ImageShape(e) => e.found,
        other => panic!("expected an image shape error, got {other:?}"),
    };
    assert_eq!(
        error(classifier.try_forward(wrong.clone()).unwrap_err()),
        [2, 3, 40, 40]
    );
    assert_eq!(
        error(classifier.forward_with_attention(wrong).unwrap_err()),
        [2, 3, 40, 40]
    );
    assert_eq!(classifier.try_forward(right).unwrap().dims(), [2, 7]);
}

#[test]
#[should_panic(
    expected = "DeiT takes a non-empty batch of shape [N, 3, 32, 32], got a batch of shape [2, 3, 40, 40]"
)]
fn the_infallible_forward_panics_with_our_message() {
    let device = Device::flex();
    let model = tiny(7).init(&device);
    model.forward(Tensor::<4>::zeros([2, 3, 40, 40], &device));
}

//! Swin: parameter counts equal timm's, shapes, a training step, the shifted-window mask
//! by hand, the configuration errors and the images of another shape.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use mixaug_loss::PooledClassifier;
use mixaug_models::{
    Classifier, ClassifierFamily, ImageShapeError, ModelError, SwinConfig, SwinConfigError,
    shifted_window_mask,
};

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

/// 32×32 images, patch 2: maps 16, 8, 4, 2 wide; window 4 (shifted by 2 in stages 0 and
/// 1; stages 2 and 3 use the whole map, unshifted); widths 16, 32, 64, 128.
fn tiny(num_classes: usize) -> SwinConfig {
    SwinConfig::new(num_classes)
        .with_image_size(32)
        .with_patch_size(2)
        .with_embed_dim(16)
        .with_depths(vec![2, 2, 2, 1])
        .with_num_heads(vec![2, 2, 4, 4])
        .with_window_size(4)
}

#[test]
fn parameter_counts_match_timm() {
    // sum(p.numel() for p in timm.create_model("swin_tiny_patch4_window7_224",
    // num_classes=K).parameters()), as listed in issue 20: the relative position index and
    // the attention mask are buffers, not parameters (here they are not stored at all).
    let device = Device::flex();
    for (classes, expected) in [(1000, 28_288_354), (100, 27_596_254)] {
        let model = SwinConfig::swin_tiny(classes).init(&device);
        assert_eq!(model.num_trainable_params(), expected, "{classes} classes");
    }
}

#[test]
fn forward_shapes() {
    let device = Device::flex();
    let model = tiny(7).init(&device);
    assert_eq!(model.layers[0].blocks[1].shift_size, 2);
    assert_eq!(model.layers[2].blocks[1].shift_size, 0);
    assert_eq!(model.layers[3].blocks[0].attn.window_size, 2);
    let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Default, &device);
    assert_eq!(model.forward_features(x.clone()).dims(), [2, 2, 2, 128]);
    assert_eq!(model.pooled(x.clone()).dims(), [2, 128]);
    let logits = model.forward(x);
    assert_eq!(logits.dims(), [2, 7]);
    assert!(floats(logits).iter().all(|v| v.is_finite()));
}

#[test]
fn shifted_window_mask_by_hand() {
    // A 4×4 map, window 2, shift 1. After rolling by −1, rows (and columns) fall into the
    // bands {0, 1} (< 4 − 2), {2} (< 4 − 1) and {3}; a token's region is 3·band(row) +
    // band(column). Windows, row-major, tokens row-major inside:
    // (0,0): rows 0–1, cols 0–1: regions 0 0 0 0 → all pairs allowed (0).
    // (0,1): rows 0–1, cols 2, 3: regions 1 2 1 2 → tokens 0~2 and 1~3.
    // (1,0): rows 2, 3, cols 0–1: regions 3 3 6 6 → tokens 0~1 and 2~3.
    // (1,1): rows 2, 3, cols 2, 3: regions 4 5 7 8 → each token only with itself.
    let mask = floats(shifted_window_mask(4, 4, 2, 1, &Device::flex()));
    let m = -100.0;
    #[rustfmt::skip]
    let expected = [
        0., 0., 0., 0.,  0., 0., 0., 0.,  0., 0., 0., 0.,  0., 0., 0., 0.,
        0., m, 0., m,    m, 0., m, 0.,    0., m, 0., m,    m, 0., m, 0.,
        0., 0., m, m,    0., 0., m, m,    m, m, 0., 0.,    m, m, 0., 0.,
        0., m, m, m,     m, 0., m, m,     m, m, 0., m,     m, m, m, 0.,
    ];
    assert_eq!(mask, expected);
    let unshifted = floats(shifted_window_mask(4, 4, 2, 0, &Device::flex()));
    assert!(unshifted.iter().all(|&v| v == 0.0));
}

#[test]
fn one_training_step_reaches_the_patch_embedding() {
    let device = Device::flex().autodiff();
    device.seed(5);
    let model = tiny(5).init(&device);
    let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Default, &device);
    let y = Tensor::<1, Int>::from_ints([0, 4], &device);
    let loss = CrossEntropyLossConfig::new()
        .init(&device)
        .forward(model.forward(x), y);
    let grads = loss.backward();
    let first = floats(model.patch_embed.proj.weight.val().grad(&grads).unwrap());
    assert!(first.iter().all(|v| v.is_finite()) && first.iter().any(|v| *v != 0.0));
    let table = model.layers[0].blocks[1]
        .attn
        .relative_position_bias_table
        .val()
        .grad(&grads)
        .unwrap();
    assert!(floats(table).iter().all(|v| v.is_finite()));
    assert!(loss.into_scalar::<f32>().is_finite());
}

#[test]
fn invalid_configurations_are_typed_errors() {
    assert_eq!(
        tiny(3).with_patch_size(3).validate(),
        Err(SwinConfigError::Patch {
            image: 32,
            patch: 3
        })
    );
    assert_eq!(
        tiny(3).with_num_heads(vec![2, 2]).validate(),
        Err(SwinConfigError::Stages {
            depths: 4,
            heads: 2
        })
    );
    assert_eq!(
        tiny(3).with_num_heads(vec![2, 3, 4, 4]).validate(),
        Err(SwinConfigError::Heads {
            stage: 1,
            dim: 32,
            heads: 3
        })
    );
    // 16 is not a multiple of 3.
    assert_eq!(
        tiny(3).with_window_size(3).validate(),
        Err(SwinConfigError::Window {
            stage: 0,
            side: 16,
            window: 3
        })
    );
    assert_eq!(
        SwinConfig::swin_tiny(3)
            .with_image_size(200)
            .try_init(&Device::flex())
            .err(),
        Some(SwinConfigError::Window {
            stage: 0,
            side: 50,
            window: 7
        })
    );
    assert_eq!(SwinConfig::swin_tiny(10).validate(), Ok(()));
}

#[test]
fn images_of_another_shape_are_a_typed_error() {
    let device = Device::flex();
    let model = tiny(7).init(&device);
    let right = Tensor::<4>::zeros([1, 3, 32, 32], &device);
    assert_eq!(model.try_forward(right.clone()).unwrap().dims(), [1, 7]);
    // 36 × 36 with patch 2 is an 18 × 18 map, which windows of 4 do not tile; one channel
    // does not fit the patch projection; 64 × 64 would tile, but the windows, shifts and
    // masks were planned for 32 × 32 (timm's `strict_img_size`), so it is refused too.
    for found in [[1, 3, 36, 36], [2, 1, 32, 32], [1, 3, 64, 64]] {
        let images = Tensor::<4>::zeros(found, &device);
        let expected = ImageShapeError {
            network: "Swin",
            channels: 3,
            size: Some([32, 32]),
            found,
        };
        assert_eq!(model.check_images(&images), Err(expected.clone()));
        assert_eq!(model.try_forward(images).err(), Some(expected));
    }
    // A `Classifier` gives the same error as a `ModelError`.
    let classifier = Classifier::Swin(model);
    match classifier.try_forward(Tensor::<4>::zeros([1, 3, 36, 36], &device)) {
        Err(ModelError::ImageShape(e)) => assert_eq!(e.found, [1, 3, 36, 36]),
        other => panic!("expected an image shape error, got {other:?}"),
    }
    assert_eq!(classifier.try_forward(right).unwrap().dims(), [1, 7]);
}

#[test]
#[should_panic(
    expected = "Swin takes a non-empty batch of shape [N, 3, 32, 32], got a batch of shape [1, 3, 36, 36]"
)]
fn an_image_of_another_size_is_refused_with_our_message() {
    // Refused before burn's reshape would fail on the untiled 18 × 18 map.
    let device = Device::flex();
    let model = tiny(7).init(&device);
    model.forward(Tensor::<4>::zeros([1, 3, 36, 36], &device));
}

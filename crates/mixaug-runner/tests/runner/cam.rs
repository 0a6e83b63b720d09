//! `mixaug cam` on the PyTorch fixture checkpoint of mixaug-models (a narrow ResNet with
//! random weights): the drawn class is the top prediction unless one is asked for, the
//! score is that class's logit, and bad requests are errors.

use std::path::PathBuf;

use burn::prelude::*;
use mixaug_models::{ModelSpec, Stem};
use mixaug_runner::cam::{cam_pictures, load_cam_model, load_square};
use mixaug_runner::render::{Normalization, photos_to_batch};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn cam_overlays_follow_the_prediction_or_the_requested_class() {
    let device = Device::flex();
    let checkpoint = root().join("crates/mixaug-models/tests/fixtures/resnet_basic_w4.pth");
    let mut spec = ModelSpec::named("resnet18", 10)
        .with_stem(Stem::ImageNet)
        .with_base_width(4);
    spec.layers = Some([1, 1, 1, 1]);
    let model = load_cam_model(&spec, &checkpoint, &device).unwrap();
    let photos: Vec<_> = ["astronaut.png", "chelsea.png"]
        .iter()
        .map(|p| load_square(&root().join("assets").join(p), 64).unwrap())
        .collect();
    let logits: Vec<f32> = model
        .forward(photos_to_batch(&photos, Normalization::IMAGENET, &device))
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    let pictures = cam_pictures(&model, &photos, None, Normalization::IMAGENET, &device).unwrap();
    for (i, picture) in pictures.iter().enumerate() {
        let row = &logits[i * 10..(i + 1) * 10];
        let top = (0..10).fold(0, |b, c| if row[c] > row[b] { c } else { b });
        assert_eq!(picture.class, top);
        assert!((picture.score - row[top]).abs() < 1e-5);
        assert_eq!(picture.overlay.dimensions(), (64, 64));
    }
    let asked = cam_pictures(&model, &photos, Some(3), Normalization::IMAGENET, &device).unwrap();
    assert!(asked.iter().all(|p| p.class == 3));
    assert!(cam_pictures(&model, &photos, Some(10), Normalization::IMAGENET, &device).is_err());
    // A checkpoint that does not fit the architecture is an error naming the file.
    let full = ModelSpec::named("resnet18", 10).with_stem(Stem::ImageNet);
    let wrong = load_cam_model(&full, &checkpoint, &device);
    assert!(format!("{:#}", wrong.unwrap_err()).contains("resnet_basic_w4.pth"));
    let unknown = load_cam_model(&ModelSpec::named("vgg16", 10), &checkpoint, &device);
    assert!(format!("{:#}", unknown.unwrap_err()).contains("unknown architecture `vgg16`"));
    // DeiT classifies its class token: no CAM, refused before any checkpoint is read.
    let deit = ModelSpec::named("deit_small_patch16_224", 10);
    let refused = load_cam_model(&deit, &checkpoint, &device);
    assert!(format!("{:#}", refused.unwrap_err()).contains("has no class activation maps"));
}

//! Numeric equivalence with PyTorch: the fixtures in `tests/fixtures/` were written by
//! `make_resnet_fixtures.py` (PyTorch 2.9.0, run by hand): torchvision-shaped ResNets of
//! reduced width with random weights and BatchNorm statistics, a fixed input, and PyTorch's
//! eval-mode logits and last-stage features.

use std::path::PathBuf;

use burn::prelude::*;
use mixaug_models::{BlockKind, ImportError, ImportOptions, ResNet, ResNetConfig, load_pytorch};

use crate::assert_matches;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

struct Expected {
    input: Tensor<4>,
    logits: Vec<f32>,
    features: Vec<f32>,
    features_shape: Vec<usize>,
}

fn expected(name: &str, device: &Device) -> Expected {
    let text = std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let floats = |key: &str| -> Vec<f32> {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect()
    };
    let shape = |key: &str| -> Vec<usize> {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect()
    };
    let input_shape: [usize; 4] = shape("input_shape").try_into().unwrap();
    Expected {
        input: Tensor::from_data(TensorData::new(floats("input"), input_shape), device),
        logits: floats("logits"),
        features: floats("features"),
        features_shape: shape("features_shape"),
    }
}

fn basic(classes: usize, device: &Device) -> ResNet {
    ResNetConfig::new(BlockKind::Basic, [1, 1, 1, 1], classes)
        .with_base_width(4)
        .init(device)
}

fn check(model: &ResNet, name: &str, device: &Device) {
    let e = expected(name, device);
    let features = model.features(e.input.clone());
    assert_eq!(features.dims().to_vec(), e.features_shape);
    assert_matches(
        features.into_data().try_into_vec_as::<f32>().unwrap(),
        &e.features,
        "features",
    );
    assert_matches(
        model
            .forward(e.input)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap(),
        &e.logits,
        "logits",
    );
}

#[test]
fn basic_block_pth_matches_pytorch() {
    let device = Device::flex();
    let mut model = basic(10, &device);
    let report = load_pytorch(
        &mut model,
        fixture("resnet_basic_w4.pth"),
        &ImportOptions::default(),
    )
    .unwrap();
    // Stem: conv1 + bn1 (weight, bias, running mean, running variance) = 5 tensors; stage 1:
    // two convolutions and two BatchNorms = 10; stages 2-4 add a downsample convolution and
    // BatchNorm = 15 each; fc: 2. Total 5 + 10 + 45 + 2 = 62.
    assert_eq!(report.loaded, 62);
    assert!(
        report.missing.is_empty() && report.unused.is_empty(),
        "{report:?}"
    );
    check(&model, "resnet_basic_w4", &device);
}

#[test]
fn basic_block_safetensors_matches_pytorch() {
    let device = Device::flex();
    let mut model = basic(10, &device);
    load_pytorch(
        &mut model,
        fixture("resnet_basic_w4.safetensors"),
        &ImportOptions::default(),
    )
    .unwrap();
    check(&model, "resnet_basic_w4", &device);
}

#[test]
fn bottleneck_pth_matches_pytorch() {
    let device = Device::flex();
    let mut model = ResNetConfig::new(BlockKind::Bottleneck, [1, 1, 1, 1], 7)
        .with_base_width(2)
        .init(&device);
    load_pytorch(
        &mut model,
        fixture("resnet_bottleneck_w2.pth"),
        &ImportOptions::default(),
    )
    .unwrap();
    check(&model, "resnet_bottleneck_w2", &device);
}

#[test]
fn a_new_classifier_keeps_the_backbone() {
    let device = Device::flex();
    let mut model = basic(3, &device);
    let options = ImportOptions {
        replace_classifier: true,
        ..ImportOptions::default()
    };
    let report = load_pytorch(&mut model, fixture("resnet_basic_w4.pth"), &options).unwrap();
    let mut missing = report.missing.clone();
    missing.sort();
    assert_eq!(
        missing,
        vec!["fc.bias".to_string(), "fc.weight".to_string()]
    );
    assert_eq!(report.loaded, 60);
    let e = expected("resnet_basic_w4", &device);
    assert_matches(
        model
            .features(e.input)
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap(),
        &e.features,
        "features",
    );
    // Without the option the 10-class head does not fit the 3-class model.
    let mut model = basic(3, &device);
    let err = load_pytorch(
        &mut model,
        fixture("resnet_basic_w4.pth"),
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ImportError::Incompatible { .. }), "{err}");
}

#[test]
fn strict_loading_names_missing_and_unexpected_keys() {
    let device = Device::flex();
    // Two blocks in stage 1: the checkpoint has no `layer1.1.*`.
    let mut model = ResNetConfig::new(BlockKind::Basic, [2, 1, 1, 1], 10)
        .with_base_width(4)
        .init(&device);
    match load_pytorch(
        &mut model,
        fixture("resnet_basic_w4.pth"),
        &ImportOptions::default(),
    ) {
        Err(ImportError::KeyMismatch {
            missing,
            unexpected,
            ..
        }) => {
            assert!(
                missing.iter().any(|k| k == "layer1.1.conv1.weight"),
                "{missing:?}"
            );
            assert!(unexpected.is_empty(), "{unexpected:?}");
        }
        other => panic!("expected a key mismatch, got {other:?}"),
    }
    // Not strict: what matches is loaded, the rest reported.
    let options = ImportOptions {
        strict: false,
        ..ImportOptions::default()
    };
    let report = load_pytorch(&mut model, fixture("resnet_basic_w4.pth"), &options).unwrap();
    assert!(
        report
            .missing
            .iter()
            .any(|k| k == "layer1.1.bn2.running_var")
    );
}

#[test]
fn bad_files_are_typed_errors() {
    let device = Device::flex();
    let mut model = basic(10, &device);
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("weights.bin");
    std::fs::write(&odd, b"0").unwrap();
    assert!(matches!(
        load_pytorch(&mut model, &odd, &ImportOptions::default()),
        Err(ImportError::UnknownFormat { .. })
    ));
    let bytes = std::fs::read(fixture("resnet_basic_w4.pth")).unwrap();
    let truncated = dir.path().join("truncated.pth");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_pytorch(&mut model, &truncated, &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::Read { .. }), "{err}");
    let missing = dir.path().join("absent.safetensors");
    assert!(matches!(
        load_pytorch(&mut model, &missing, &ImportOptions::default()),
        Err(ImportError::Read { .. })
    ));
}

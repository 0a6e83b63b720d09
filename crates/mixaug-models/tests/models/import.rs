//! Numeric equivalence with PyTorch: the fixtures in `tests/fixtures/` were written by
//! `make_resnet_fixtures.py` (PyTorch 2.9.0, run by hand): torchvision-shaped ResNets of
//! reduced width with random weights and BatchNorm statistics, a fixed input, and PyTorch's
//! eval-mode logits and last-stage features.

use std::path::PathBuf;

use burn::prelude::*;
use mixaug_models::{
    BlockKind, ImportError, ImportOptions, IncompatibleTensor, ResNet, ResNetConfig, TensorProblem,
    load_pytorch,
};
use safetensors::tensor::{Dtype, TensorView};

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
    assert!(
        matches!(&err, ImportError::Mismatch { incompatible, .. } if incompatible.len() == 2),
        "{err}"
    );
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
        Err(ImportError::Mismatch {
            missing,
            unexpected,
            incompatible,
            ..
        }) => {
            assert!(
                missing.iter().any(|k| k == "layer1.1.conv1.weight"),
                "{missing:?}"
            );
            assert!(unexpected.is_empty(), "{unexpected:?}");
            assert!(incompatible.is_empty(), "{incompatible:?}");
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

fn shape_error(key: &str, expected: &[usize], found: &[usize]) -> IncompatibleTensor {
    IncompatibleTensor {
        key: key.to_string(),
        problem: TensorProblem::Shape {
            expected: expected.to_vec(),
            found: found.to_vec(),
        },
    }
}

#[test]
fn a_pth_mismatch_is_one_error_in_pytorchs_names_and_layout() {
    let device = Device::flex();
    // Two blocks in stage 1 and 3 classes: the checkpoint (one block per stage, 10 classes)
    // lacks all of `layer1.1` and its classifier has the wrong shape.
    let mut model = ResNetConfig::new(BlockKind::Basic, [2, 1, 1, 1], 3)
        .with_base_width(4)
        .init(&device);
    let err = load_pytorch(
        &mut model,
        fixture("resnet_basic_w4.pth"),
        &ImportOptions::default(),
    )
    .unwrap_err();
    let message = err.to_string();
    let ImportError::Mismatch {
        missing,
        unexpected,
        incompatible,
        ..
    } = err
    else {
        panic!("expected a mismatch, got {err:?}");
    };
    // The block's two convolutions and two BatchNorms, named as torchvision's state dict
    // names them: the norms' `weight`/`bias`, which burn calls `gamma`/`beta`. Sorted.
    let block = |suffix: &str| format!("layer1.1.{suffix}");
    let expected_missing: Vec<String> = [
        "bn1.bias",
        "bn1.running_mean",
        "bn1.running_var",
        "bn1.weight",
        "bn2.bias",
        "bn2.running_mean",
        "bn2.running_var",
        "bn2.weight",
        "conv1.weight",
        "conv2.weight",
    ]
    .map(block)
    .to_vec();
    assert_eq!(missing, expected_missing);
    // `num_batches_tracked` is an ignored buffer, not unexpected.
    assert!(unexpected.is_empty(), "{unexpected:?}");
    // The classifier reads the 32 channels of stage 4 (4 · 8). PyTorch's `fc.weight` is
    // `(classes, 32)`: (10, 32) in the file, (3, 32) in the model, although burn stores
    // the model's as [32, 3] and loads the file's transposed to [32, 10].
    assert_eq!(
        incompatible,
        [
            shape_error("fc.weight", &[3, 32], &[10, 32]),
            shape_error("fc.bias", &[3], &[10]),
        ]
    );
    assert!(
        message.contains("fc.weight: shape (10, 32) in the checkpoint, the model expects (3, 32)")
            && message.contains("fc.bias: shape (10,) in the checkpoint, the model expects (3,)"),
        "{message}"
    );
}

#[test]
fn remapped_keys_are_reported_as_the_checkpoint_names_them() {
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    // torchvision's downsample branch is `downsample.0` (convolution) and `downsample.1`
    // (BatchNorm), burn's `downsample.conv` and `downsample.bn`. Remove one BatchNorm
    // buffer and give the 1×1 convolution (8, 4, 1, 1) a 3×3 kernel: the error names both
    // with torchvision's keys.
    let bytes = std::fs::read(fixture("resnet_basic_w4.safetensors")).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let edited: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .tensors()
        .into_iter()
        .filter(|(name, _)| name != "layer2.0.downsample.1.running_mean")
        .map(|(name, view)| {
            if name == "layer2.0.downsample.0.weight" {
                (name, vec![8, 4, 3, 3], vec![0u8; 4 * 8 * 4 * 9])
            } else {
                (name, view.shape().to_vec(), view.data().to_vec())
            }
        })
        .collect();
    let views = edited
        .iter()
        .map(|(name, shape, data)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), data).unwrap();
            (name.clone(), view)
        })
        .collect::<Vec<_>>();
    let path = dir.path().join("edited.safetensors");
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    match load_pytorch(&mut basic(10, &device), &path, &ImportOptions::default()) {
        Err(ImportError::Mismatch {
            missing,
            unexpected,
            incompatible,
            ..
        }) => {
            assert_eq!(missing, ["layer2.0.downsample.1.running_mean"]);
            assert!(unexpected.is_empty(), "{unexpected:?}");
            assert_eq!(
                incompatible,
                [shape_error(
                    "layer2.0.downsample.0.weight",
                    &[8, 4, 1, 1],
                    &[8, 4, 3, 3]
                )]
            );
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn every_layouts_inverse_remapping_undoes_its_remapping() {
    use burn::store::KeyRemapper;
    use mixaug_models::{Deit, PytorchLayout, ResNet, Swin};
    fn apply(patterns: &[(&str, &str)], key: &str) -> String {
        let remapper = KeyRemapper::from_patterns(patterns.to_vec()).expect("valid patterns");
        remapper
            .to_regex_pairs()
            .iter()
            .fold(key.to_string(), |k, (from, to)| {
                from.replace_all(&k, to.as_str()).into_owned()
            })
    }
    fn round_trip<M: PytorchLayout>(keys: &[&str]) {
        for key in keys {
            let burn = apply(M::KEY_REMAPPING, key);
            assert_eq!(apply(M::INVERSE_KEY_REMAPPING, &burn), *key, "via {burn}");
        }
    }
    // torchvision's downsample Sequential is burn's named pair, and back.
    assert_eq!(
        apply(ResNet::KEY_REMAPPING, "layer2.0.downsample.1.running_var"),
        "layer2.0.downsample.bn.running_var"
    );
    round_trip::<ResNet>(&[
        "layer2.0.downsample.0.weight",
        "layer4.0.downsample.1.running_mean",
        "layer1.0.conv1.weight",
        "fc.bias",
    ]);
    round_trip::<Deit>(&["blocks.0.attn.qkv.weight", "cls_token", "head.bias"]);
    round_trip::<Swin>(&["layers.1.downsample.reduction.weight", "head.fc.weight"]);
}

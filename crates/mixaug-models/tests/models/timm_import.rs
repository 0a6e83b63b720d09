//! timm checkpoints into [`Deit`] and [`Swin`]: the fixtures in `tests/fixtures/` were
//! written by `make_timm_fixtures.py` (timm 1.0.31, torch 2.9.0, run by hand): small
//! random-weight networks built by timm's own classes, a fixed 2×3×32×32 input, timm's
//! eval-mode logits and DeiT's last-block class-token attention. The strict-loading cases
//! rewrite the fixture with the `safetensors` crate (keys removed, added, shapes changed).

use std::path::{Path, PathBuf};

use burn::prelude::*;
use mixaug_loss::PooledClassifier;
use mixaug_models::{
    Deit, DeitConfig, ImportError, ImportOptions, IncompatibleTensor, Swin, SwinConfig,
    TensorProblem, load_pytorch,
};
use safetensors::tensor::{Dtype, TensorView};

use crate::assert_matches;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

/// A float array of the fixture JSON.
fn json_floats(name: &str, key: &str) -> Vec<f32> {
    let text = std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json[key]
        .as_array()
        .unwrap_or_else(|| panic!("{name}.json has no {key}"))
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

/// The fixture's input, `[2, 3, 32, 32]` (the JSON's `input_shape`).
fn input(name: &str, device: &Device) -> Tensor<4> {
    Tensor::from_data(
        TensorData::new(json_floats(name, "input"), [2, 3, 32, 32]),
        device,
    )
}

/// The fixture's `VisionTransformer(img_size=32, patch_size=8, embed_dim=48, depth=2,
/// num_heads=3)`.
fn deit(classes: usize, device: &Device) -> Deit {
    DeitConfig::new(classes)
        .with_image_size(32)
        .with_patch_size(8)
        .with_embed_dim(48)
        .with_depth(2)
        .with_num_heads(3)
        .init(device)
}

/// The fixture's `SwinTransformer(img_size=32, patch_size=2, window_size=4, embed_dim=24,
/// depths=(2, 2), num_heads=(1, 2))`.
fn swin(classes: usize, device: &Device) -> Swin {
    SwinConfig::new(classes)
        .with_image_size(32)
        .with_patch_size(2)
        .with_window_size(4)
        .with_embed_dim(24)
        .with_depths(vec![2, 2])
        .with_num_heads(vec![1, 2])
        .init(device)
}

#[test]
fn deit_matches_timm_from_both_formats() {
    let device = Device::flex();
    for file in ["deit_tiny_test.pth", "deit_tiny_test.safetensors"] {
        let mut model = deit(10, &device);
        let report = load_pytorch(&mut model, fixture(file), &ImportOptions::default()).unwrap();
        // cls_token, pos_embed, patch_embed.proj (2), per block norm1, attn.qkv, attn.proj,
        // norm2, mlp.fc1, mlp.fc2 (2 each: 12), norm (2), head (2): 2 + 2 + 24 + 4 = 32,
        // the script's "32 state-dict tensors".
        assert_eq!(report.loaded, 32, "{file}");
        assert!(
            report.missing.is_empty() && report.unused.is_empty(),
            "{report:?}"
        );
        let x = input("deit_tiny_test", &device);
        let (logits, attention) = model.forward_with_attention(x);
        assert_matches(
            floats(logits),
            &json_floats("deit_tiny_test", "logits"),
            file,
        );
        assert_eq!(attention.dims(), [2, 3, 16]);
        assert_matches(
            floats(attention),
            &json_floats("deit_tiny_test", "cls_attention"),
            file,
        );
    }
}

#[test]
fn swin_matches_timm_from_both_formats() {
    let device = Device::flex();
    for file in ["swin_tiny_test.pth", "swin_tiny_test.safetensors"] {
        let mut model = swin(10, &device);
        // The .pth also holds the 4 `relative_position_index` and 2 `attn_mask` buffers
        // (the script's "6 extra buffers"): skipped by name, strict loading passes.
        let report = load_pytorch(&mut model, fixture(file), &ImportOptions::default()).unwrap();
        // patch_embed proj + norm (4); stage 1: 2 blocks × (norm1, qkv, proj, norm2, fc1,
        // fc2: 12, bias table: 1) = 26; stage 2: downsample norm (2) + reduction (1) + 26;
        // norm (2), head.fc (2): 4 + 26 + 29 + 4 = 63, the script's "63 state-dict tensors".
        assert_eq!(report.loaded, 63, "{file}");
        assert!(
            report.missing.is_empty() && report.unused.is_empty(),
            "{report:?}"
        );
        let logits = model.forward(input("swin_tiny_test", &device));
        assert_matches(
            floats(logits),
            &json_floats("swin_tiny_test", "logits"),
            file,
        );
    }
}

#[test]
fn replace_classifier_keeps_the_backbone_for_a_new_head() {
    let device = Device::flex();
    let replace = ImportOptions {
        replace_classifier: true,
        ..ImportOptions::default()
    };
    // Swin: 10 classes in the checkpoint, 3 in the model.
    let mut full = swin(10, &device);
    load_pytorch(
        &mut full,
        fixture("swin_tiny_test.pth"),
        &ImportOptions::default(),
    )
    .unwrap();
    let mut model = swin(3, &device);
    let report = load_pytorch(&mut model, fixture("swin_tiny_test.pth"), &replace).unwrap();
    let mut missing = report.missing.clone();
    missing.sort();
    assert_eq!(missing, ["head.fc.bias", "head.fc.weight"]);
    assert_eq!((report.loaded, report.unused.len()), (61, 0));
    let x = input("swin_tiny_test", &device);
    // The pooled features are the checkpoint's (the full model's logits match timm's).
    assert_matches(
        floats(model.pooled(x.clone())),
        &floats(full.pooled(x.clone())),
        "swin pooled",
    );
    assert_eq!(model.forward(x).dims(), [2, 3]);
    // Without the option the 10-class head does not fit, and the error names both its
    // tensors (in module order) in PyTorch's layout: the weight is `(classes, 48)` (48 =
    // 24 · 2 after the one patch merging), burn's own `[48, 3]` transposed back.
    let mut model = swin(3, &device);
    match load_pytorch(
        &mut model,
        fixture("swin_tiny_test.safetensors"),
        &ImportOptions::default(),
    ) {
        Err(ImportError::Mismatch {
            missing,
            unexpected,
            incompatible,
            ..
        }) => {
            assert!(missing.is_empty() && unexpected.is_empty());
            assert_eq!(
                incompatible,
                [
                    shape_error("head.fc.weight", &[3, 48], &[10, 48]),
                    shape_error("head.fc.bias", &[3], &[10]),
                ]
            );
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }

    // DeiT: the head is `head.*`.
    let mut full = deit(10, &device);
    load_pytorch(
        &mut full,
        fixture("deit_tiny_test.safetensors"),
        &ImportOptions::default(),
    )
    .unwrap();
    let mut model = deit(100, &device);
    let report = load_pytorch(&mut model, fixture("deit_tiny_test.safetensors"), &replace).unwrap();
    let mut missing = report.missing.clone();
    missing.sort();
    assert_eq!(missing, ["head.bias", "head.weight"]);
    assert_eq!(report.loaded, 30);
    let x = input("deit_tiny_test", &device);
    assert_matches(
        floats(model.pooled(x.clone())),
        &floats(full.pooled(x)),
        "deit pooled",
    );
}

/// A shape error as [`ImportError::Mismatch`] lists it (shapes in the checkpoint's layout).
fn shape_error(key: &str, expected: &[usize], found: &[usize]) -> IncompatibleTensor {
    IncompatibleTensor {
        key: key.to_string(),
        problem: TensorProblem::Shape {
            expected: expected.to_vec(),
            found: found.to_vec(),
        },
    }
}

/// The safetensors fixture `name` rewritten: the `drop` keys removed, the `add` keys added
/// (zero tensors of those shapes), the `reshape` keys given new shapes (zeros).
fn rewritten(
    dir: &Path,
    name: &str,
    drop: &[&str],
    add: &[(&str, Vec<usize>)],
    reshape: &[(&str, Vec<usize>)],
) -> PathBuf {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .tensors()
        .into_iter()
        .filter(|(name, _)| !drop.contains(&name.as_str()))
        .map(|(name, view)| (name, view.shape().to_vec(), view.data().to_vec()))
        .collect();
    let zeros = |shape: &[usize]| vec![0u8; 4 * shape.iter().product::<usize>()];
    for (name, shape) in add {
        owned.push((name.to_string(), shape.clone(), zeros(shape)));
    }
    for (name, shape) in reshape {
        let entry = owned.iter_mut().find(|(n, _, _)| n == name).unwrap();
        *entry = (name.to_string(), shape.clone(), zeros(shape));
    }
    let views = owned
        .iter()
        .map(|(name, shape, data)| {
            (
                name.clone(),
                TensorView::new(Dtype::F32, shape.clone(), data).unwrap(),
            )
        })
        .collect::<Vec<_>>();
    let path = dir.join("edited.safetensors");
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    path
}

/// The DeiT fixture rewritten (see [`rewritten`]).
fn rewritten_deit(
    dir: &Path,
    drop: &[&str],
    add: &[(&str, Vec<usize>)],
    reshape: &[(&str, Vec<usize>)],
) -> PathBuf {
    rewritten(dir, "deit_tiny_test.safetensors", drop, add, reshape)
}

#[test]
fn strict_loading_names_the_missing_the_unexpected_and_the_misshapen() {
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    // One key missing: named as the checkpoint names it (LayerNorm's bias, burn's `beta`).
    let path = rewritten_deit(dir.path(), &["blocks.1.norm2.bias"], &[], &[]);
    match load_pytorch(&mut deit(10, &device), &path, &ImportOptions::default()) {
        Err(ImportError::Mismatch {
            missing,
            unexpected,
            incompatible,
            ..
        }) => {
            assert_eq!(missing, ["blocks.1.norm2.bias"]);
            assert!(unexpected.is_empty(), "{unexpected:?}");
            assert!(incompatible.is_empty(), "{incompatible:?}");
        }
        other => panic!("expected a key mismatch, got {other:?}"),
    }
    // Not strict, the rest loads and the gap is reported (as burn's path).
    let options = ImportOptions {
        strict: false,
        ..ImportOptions::default()
    };
    let report = load_pytorch(&mut deit(10, &device), &path, &options).unwrap();
    assert_eq!((report.loaded, report.missing.len()), (31, 1));
    assert_eq!(report.missing, ["blocks.1.norm2.beta"]);

    // One key the model lacks (timm's `q_norm` of a qk-normalised ViT).
    let path = rewritten_deit(
        dir.path(),
        &[],
        &[("blocks.0.attn.q_norm.weight", vec![16])],
        &[],
    );
    match load_pytorch(&mut deit(10, &device), &path, &ImportOptions::default()) {
        Err(ImportError::Mismatch {
            missing,
            unexpected,
            incompatible,
            ..
        }) => {
            assert!(missing.is_empty(), "{missing:?}");
            assert_eq!(unexpected, ["blocks.0.attn.q_norm.weight"]);
            assert!(incompatible.is_empty(), "{incompatible:?}");
        }
        other => panic!("expected a key mismatch, got {other:?}"),
    }

    // One shape wrong: a position embedding for 8 patches where the model has 16.
    let path = rewritten_deit(dir.path(), &[], &[], &[("pos_embed", vec![1, 9, 48])]);
    match load_pytorch(&mut deit(10, &device), &path, &ImportOptions::default()) {
        Err(ImportError::Mismatch {
            missing,
            unexpected,
            incompatible,
            ..
        }) => {
            assert!(missing.is_empty() && unexpected.is_empty());
            assert_eq!(
                incompatible,
                [shape_error("pos_embed", &[1, 17, 48], &[1, 9, 48])]
            );
        }
        other => panic!("expected a shape error, got {other:?}"),
    }
}

#[test]
fn one_error_lists_every_problem_in_the_checkpoints_layout() {
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    // A missing key, an unexpected key and two wrong-shaped tensors, among them a linear
    // weight: PyTorch stores `blocks.0.mlp.fc1.weight` as `(out, in)` = (4 · 48, 48) =
    // (192, 48); burn-store transposes it on loading (burn's `[in, out]`: the model's [48, 192], the file's [48, 191] once transposed),
    // but the error gives both shapes as the checkpoint writes them.
    let path = rewritten_deit(
        dir.path(),
        &["blocks.1.norm2.bias"],
        &[("blocks.0.attn.q_norm.weight", vec![16])],
        &[
            ("blocks.0.mlp.fc1.weight", vec![191, 48]),
            ("pos_embed", vec![1, 9, 48]),
        ],
    );
    let expected_incompatible = [
        // In module order: the position embedding comes before the blocks.
        shape_error("pos_embed", &[1, 17, 48], &[1, 9, 48]),
        shape_error("blocks.0.mlp.fc1.weight", &[192, 48], &[191, 48]),
    ];
    let err = load_pytorch(&mut deit(10, &device), &path, &ImportOptions::default()).unwrap_err();
    let message = err.to_string();
    match err {
        ImportError::Mismatch {
            missing,
            unexpected,
            incompatible,
            ..
        } => {
            assert_eq!(missing, ["blocks.1.norm2.bias"]);
            assert_eq!(unexpected, ["blocks.0.attn.q_norm.weight"]);
            assert_eq!(incompatible, expected_incompatible);
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    for part in [
        "missing from the checkpoint (1): blocks.1.norm2.bias",
        "not in the model (1): blocks.0.attn.q_norm.weight",
        "blocks.0.mlp.fc1.weight: shape (191, 48) in the checkpoint, the model expects (192, 48)",
        "pos_embed: shape (1, 9, 48) in the checkpoint, the model expects (1, 17, 48)",
    ] {
        assert!(message.contains(part), "{part:?} not in:\n{message}");
    }

    // Not strict: missing and unexpected keys are let through, the wrong shapes are still
    // an error, both of them.
    let options = ImportOptions {
        strict: false,
        ..ImportOptions::default()
    };
    match load_pytorch(&mut deit(10, &device), &path, &options) {
        Err(ImportError::Mismatch {
            missing,
            unexpected,
            incompatible,
            ..
        }) => {
            assert!(missing.is_empty() && unexpected.is_empty());
            assert_eq!(incompatible, expected_incompatible);
        }
        other => panic!("expected a shape error, got {other:?}"),
    }
}
